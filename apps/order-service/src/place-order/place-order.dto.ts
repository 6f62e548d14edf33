import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';

export const PAYMENT_TOKENS = ['tok_visa', 'tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds'] as const;

/** POST /orders body (docs/contract.md): 1..50 lines, each SKU once, quantities 1..100, a known test token. */
export const PlaceOrderBody = z
  .strictObject({
    items: z
      .array(z.strictObject({ sku: z.string().min(1).max(64), quantity: z.int().min(1).max(100) }))
      .min(1)
      .max(50),
    paymentToken: z.enum(PAYMENT_TOKENS),
  })
  .refine((body) => new Set(body.items.map((item) => item.sku)).size === body.items.length, {
    message: 'each SKU may appear only once',
    path: ['items'],
  });

export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;

export const IdempotencyKey = z.string().min(1).max(200);

/**
 * "Same body" is the same JSON value: key order does not matter, array order
 * does. The hash is over a canonical form with sorted keys.
 */
export function bodyHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((key) => [key, canonical((v as Record<string, unknown>)[key])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

export const newOrderId = () => randomUUID();
