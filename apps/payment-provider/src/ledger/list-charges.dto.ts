import { z } from 'zod';

export const listChargesQuery = z.strictObject({
  reference: z.string().min(1).max(200),
});

export interface LedgerCharge {
  readonly chargeId: string;
  readonly reference: string;
  readonly amountCents: number;
  readonly refundedCents: number;
  readonly currency: string;
  readonly status: 'captured' | 'declined';
  readonly createdAt: string;
}
