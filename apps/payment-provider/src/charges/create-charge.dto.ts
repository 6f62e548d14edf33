import { z } from 'zod';
import type { DeclineCode } from './card-tokens';
import { CARD_TOKENS } from './card-tokens';

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'three upper-case letters (ISO 4217)');

/** Money is an integer number of cents, everywhere. */
export const amountCentsSchema = z.int().positive();

export const createChargeSchema = z.strictObject({
  /** The caller's reference: for the shop, the order id. */
  reference: z.string().min(1).max(200),
  amountCents: amountCentsSchema,
  currency: currencySchema,
  token: z.enum(CARD_TOKENS, { error: `one of the test tokens: ${CARD_TOKENS.join(', ')}` }),
});

export type CreateChargeRequest = z.infer<typeof createChargeSchema>;

export interface ChargeResponse {
  readonly chargeId: string;
  readonly status: 'captured' | 'declined';
  readonly declineCode?: DeclineCode;
}
