import { z } from 'zod';

/** Field schemas shared by several messages, so one concept is checked one way everywhere. */
export const OrderId = z.uuid().describe('The order id; the Kafka key of every saga message.');
export const Sku = z.string().min(1).max(64).describe('Stock keeping unit, the product id.');
export const Quantity = z.int().min(1).max(100);
export const Cents = z.int().nonnegative().describe('An amount in the smallest unit of the currency.');
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .describe('ISO 4217 code; the whole catalog has one currency.');

export const OrderLine = z.object({ sku: Sku, quantity: Quantity });
/** 1..50 lines; each SKU at most once (docs/contract.md, POST /orders). */
export const OrderLines = z
  .array(OrderLine)
  .min(1)
  .max(50)
  .refine((lines) => new Set(lines.map((line) => line.sku)).size === lines.length, 'each SKU at most once');
