import { OrderReason, OrderStatus } from '@shop/contracts';
import { Cents, Currency, Quantity, Sku } from '../http/fields';
import { z } from 'zod';

/** The card processor's test tokens (docs/contract.md); any other value is a 400. */
export const PAYMENT_TOKENS = ['tok_visa', 'tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds'] as const;

/** POST /api/v1/orders: 1..50 lines, each SKU once, quantities 1..100, a known test token. */
export const PlaceOrderBody = z.strictObject({
  items: z
    .array(z.strictObject({ sku: Sku, quantity: Quantity.describe('An integer, 1..100.') }))
    .min(1)
    .max(50)
    .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, 'each SKU may appear only once')
    .describe('1..50 lines; each SKU at most once.'),
  paymentToken: z.enum(PAYMENT_TOKENS),
});

/** Required on POST /orders: the same key with the same body places one order, however often it is sent. */
export const IdempotencyKey = z.string().min(1).max(200);

/** An order id in a path; anything else is an unknown order (404). */
export const OrderIdParam = z.uuid();

/** GET /api/v1/orders. A cursor is opaque: only the shape of one order-service issues is checked here. */
export const ListOrdersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor this API issued')
    .optional()
    .describe('`nextCursor` of the previous page.'),
});

export const OrderAccepted = z.object({ orderId: z.uuid(), status: OrderStatus });

export const Order = z.object({
  orderId: z.uuid(),
  status: OrderStatus,
  items: z.array(z.object({ sku: Sku, quantity: Quantity, priceCents: Cents.describe('Unit price.') })),
  totalCents: Cents,
  currency: Currency,
  reason: OrderReason.optional().describe('Why a REJECTED or CANCELLED order ended so.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const OrderPage = z.object({
  items: z.array(Order).describe('Newest first.'),
  nextCursor: z.string().optional().describe('Absent on the last page.'),
});
