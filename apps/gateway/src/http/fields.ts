import { z } from 'zod';

// The same field rules as libs/contracts/src/fields.ts, which its index does not export.
export const Sku = z.string().min(1).max(64).describe('Stock keeping unit, the product id.');
export const Quantity = z.int().min(1).max(100);
export const Cents = z.int().nonnegative().describe('An amount in the smallest unit of the currency.');
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .describe('ISO 4217 code; the whole catalog has one currency.');
