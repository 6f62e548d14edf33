import { type EnvelopeMeta, PaymentCaptured, PaymentDeclined, PaymentRefunded } from '@shop/contracts';
import type { OutboxMessage } from '@shop/event-store';
import { outboxMessage } from '@shop/messaging';
import type { PaymentState } from './payment.decider';
import { streamOfOrder } from './payment.store';

/**
 * The integration events payment-service answers the saga with, built from
 * the payment's state, so an answer repeated for a duplicate command is the
 * same answer.
 */
export interface ReplyContext {
  readonly stackId: string;
  readonly orderId: string;
  readonly meta: Pick<EnvelopeMeta, 'correlationId' | 'causationId'>;
}

/** The answers to `envelope` for one order: same flow (correlation), caused by that message. */
export function replyContext(
  stackId: string,
  orderId: string,
  envelope: { readonly id: string; readonly correlationId: string },
): ReplyContext {
  return { stackId, orderId, meta: { correlationId: envelope.correlationId, causationId: envelope.id } };
}

/** PaymentCaptured or PaymentDeclined once the charge's outcome is known; nothing before. */
export function chargeReply({ stackId, orderId, meta }: ReplyContext, state: PaymentState): OutboxMessage[] {
  const paymentId = state.paymentId ?? streamOfOrder(orderId);
  if (state.status === 'captured' && state.chargeId !== null) {
    return [
      outboxMessage(
        stackId,
        PaymentCaptured,
        { orderId, paymentId, amountCents: state.capturedCents, chargeId: state.chargeId },
        meta,
      ),
    ];
  }
  if (state.status === 'declined' && state.declineReason !== null) {
    return [outboxMessage(stackId, PaymentDeclined, { orderId, paymentId, reason: state.declineReason }, meta)];
  }
  return [];
}

/** PaymentRefunded with the last refund recorded (amount 0 and no refund id when nothing was captured). */
export function refundReply({ stackId, orderId, meta }: ReplyContext, state: PaymentState): OutboxMessage[] {
  if (!state.lastRefund) return [];
  const { refundId, amountCents } = state.lastRefund;
  return [outboxMessage(stackId, PaymentRefunded, { orderId, amountCents, refundId }, meta)];
}
