import type { PaymentDeclineReason } from '@shop/contracts';

/**
 * Domain events of one order's payment (stream `payment-<orderId>`): private
 * to payment-service; what other services see are the integration events of
 * @shop/contracts (PaymentCaptured, PaymentDeclined, PaymentRefunded).
 */
export type PaymentEvent =
  | { type: 'PaymentRequested'; data: { paymentId: string; amountCents: number; currency: string } }
  | { type: 'PaymentCaptured'; data: { chargeId: string; amountCents: number } }
  | { type: 'PaymentDeclined'; data: { chargeId: string; reason: PaymentDeclineReason } }
  | { type: 'RefundRequested'; data: Record<string, never> }
  /** `refundId` null and `amountCents` 0: nothing was captured, so nothing was refunded. */
  | { type: 'PaymentRefunded'; data: { refundId: string | null; amountCents: number } };

/** What the card processor answered to a charge, in our words. */
export type ChargeOutcome =
  | { readonly status: 'captured'; readonly chargeId: string; readonly amountCents: number }
  | { readonly status: 'declined'; readonly chargeId: string; readonly reason: PaymentDeclineReason };

/** Ids and the provider's answers come in with the command: the decider does no I/O. */
export type PaymentCommand =
  | { kind: 'RequestCharge'; paymentId: string; amountCents: number; currency: string }
  | { kind: 'RecordCharge'; outcome: ChargeOutcome }
  | { kind: 'RequestRefund' }
  | { kind: 'RecordRefund'; refundId: string | null; amountCents: number };

/** Why a command was refused: a value the caller can read, not a crash. */
export type PaymentRefusal =
  | 'INVALID_AMOUNT'
  | 'NOT_REQUESTED'
  | 'NO_REFUND_REQUESTED'
  | 'NOTHING_CAPTURED'
  | 'CAPTURE_STANDING'
  | 'REFUND_EXCEEDS_CAPTURE';

export class PaymentRefused extends Error {
  constructor(readonly reason: PaymentRefusal) {
    super(reason);
    this.name = 'PaymentRefused';
  }
}
