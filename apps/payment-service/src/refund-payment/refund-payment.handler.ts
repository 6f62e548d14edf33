import type { EnvelopeOf, RefundPayment } from '@shop/contracts';
import { paymentDecider, type PaymentState, refundOwed } from '../payment/payment.decider';
import { chargeReply, refundReply, type ReplyContext, replyContext } from '../payment/payment.replies';
import type { PaymentStore } from '../payment/payment.store';
import type { PaymentProviderClient } from '../provider/payment-provider.client';

/**
 * RefundPayment (compensation or cancellation): refunds what was captured for
 * the order, exactly once, and answers PaymentRefunded (amount 0, no refund
 * id, when nothing was captured). A repeated RefundPayment gets the same
 * answer and refunds nothing more.
 *
 * The request is recorded first, in its own transaction: from then on no
 * charge is made for the order, so a ChargePayment that arrives after its
 * compensation is refused, and a capture that still lands is refunded.
 */
export class RefundPaymentHandler {
  constructor(
    private readonly payments: PaymentStore,
    private readonly provider: PaymentProviderClient,
    private readonly stackId: string,
  ) {}

  async handle(envelope: EnvelopeOf<typeof RefundPayment>): Promise<void> {
    const { orderId } = envelope.payload;
    const context = replyContext(this.stackId, orderId, envelope);
    if (await this.payments.handled(envelope.id)) return this.settle(context);

    const asked = await this.payments.write(orderId, {
      decide: (state) => paymentDecider.decide({ kind: 'RequestRefund' }, state),
      metadata: context.meta,
    });
    if (asked.outcome === 'written' && asked.state.status === 'requested') {
      // The charge's outcome never reached this service (its command was dead-lettered, or is
      // still in flight elsewhere): the provider's ledger says whether money was taken.
      const captured = await this.provider.capturedCharge(orderId);
      if (captured) {
        await this.payments.write(orderId, {
          decide: (state) =>
            paymentDecider.decide({ kind: 'RecordCharge', outcome: { status: 'captured', ...captured } }, state),
          reply: (state, events) => (events.length > 0 ? chargeReply(context, state) : []),
          metadata: context.meta,
        });
      }
    }
    await this.settle(context, envelope.id);
  }

  /**
   * Refunds a capture that stands although a refund was asked for. With
   * `inbox` this finishes that RefundPayment and always answers it (with
   * "nothing captured" when nothing is owed); without, it acts only when
   * something is owed back, and is run after every command of the order.
   * `known`: the order's state as a step just committed it (not read again).
   */
  async settle(context: ReplyContext, inbox?: string, known?: PaymentState): Promise<void> {
    const { orderId } = context;
    const state = known ?? (await this.payments.load(orderId)).state;
    const owed = refundOwed(state);
    if (owed === 0 && inbox === undefined) return;
    const refund =
      owed > 0 && state.chargeId !== null
        ? await this.provider.refund(orderId, state.chargeId, owed)
        : { refundId: null, amountCents: 0 };
    await this.payments.write(orderId, {
      decide: (current) => paymentDecider.decide({ kind: 'RecordRefund', ...refund }, current),
      reply: (current, events) => (inbox !== undefined || events.length > 0 ? refundReply(context, current) : []),
      ...(inbox === undefined ? {} : { inbox }),
      metadata: context.meta,
    });
  }
}
