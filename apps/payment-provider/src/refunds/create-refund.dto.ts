import { z } from 'zod';
import { amountCentsSchema } from '../charges/create-charge.dto';

export const createRefundSchema = z.strictObject({
  amountCents: amountCentsSchema,
});

export type CreateRefundRequest = z.infer<typeof createRefundSchema>;

export interface RefundResponse {
  readonly refundId: string;
  readonly chargeId: string;
  readonly amountCents: number;
}
