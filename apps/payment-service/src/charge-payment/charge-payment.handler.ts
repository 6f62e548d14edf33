import { randomUUID } from 'node:crypto';
import type { ChargePayment, EnvelopeOf } from '@shop/contracts';
import type { Logger } from '@shop/observability';
import { chargeStep, paymentDecider, type PaymentState } from '../payment/payment.decider';
import type { ChargeOutcome } from '../payment/payment.events';
import { chargeReply, type ReplyContext, replyContext } from '../payment/payment.replies';
import type { PaymentStore, WriteResult } from '../payment/payment.store';
import type { PaymentProviderClient } from '../provider/payment-provider.client';
import type { RefundPaymentHandler } from '../refund-payment/refund-payment.handler';

/**
 * ChargePayment: charges the order's total once and answers PaymentCaptured
 * or PaymentDeclined.
 *
 * 1. PaymentRequested is recorded in a transaction of its own, so the charge
 *    is on record before any money moves and no transaction is held open
 *    across the provider call.
 * 2. The provider is called with the order id as Idempotency-Key: a retry
 *    (of the policy, of the consumer, after a crash) gets the first answer,
 *    never a second charge. While the provider is unreachable the client
 *    throws TransientError: the consumer pauses the partition and delivers
 *    this same command again after a backoff, for as long as it takes. The
 *    charge stays pending; it is never reported as a decline.
 * 3. The outcome, its reply (outbox) and the inbox row commit together.
 *
 * A redelivered ChargePayment is told by its writes, with no read before
 * them: step 1 finds the charge requested already (and appends nothing), and
 * the step that would finish the command finds its inbox row taken. One that
 * arrives after the charge's outcome was recorded calls no one; one that
 * arrives while the outcome is still unknown (a crash between steps 2 and 3)
 * calls the provider again with the same key and gets its first answer.
 */
export class ChargePaymentHandler {
  constructor(
    private readonly payments: PaymentStore,
    private readonly provider: PaymentProviderClient,
    private readonly refunds: RefundPaymentHandler,
    private readonly stackId: string,
    private readonly logger: Logger,
  ) {}

  async handle(envelope: EnvelopeOf<typeof ChargePayment>): Promise<void> {
    const context = replyContext(this.stackId, envelope.payload.orderId, envelope);
    const after = await this.charge(envelope, context);
    // A capture never stands once a refund was asked for (one that overtook this charge). The state the
    // charge's last step committed, read under the order's lock, already shows a refund asked before it;
    // one asked after it is settled by its own handler.
    await this.refunds.settle(context, undefined, after);
  }

  /** Returns the state the charge's last step committed (undefined when it committed nothing). */
  private async charge(
    envelope: EnvelopeOf<typeof ChargePayment>,
    context: ReplyContext,
  ): Promise<PaymentState | undefined> {
    const { orderId, amountCents, currency, paymentToken } = envelope.payload;
    const requested = await this.payments.write(orderId, {
      decide: (state) =>
        paymentDecider.decide({ kind: 'RequestCharge', paymentId: randomUUID(), amountCents, currency }, state),
      metadata: context.meta,
      newStream: true,
    });
    if (requested.outcome !== 'written') return undefined;
    const { state } = requested;
    const step = chargeStep(state);

    switch (step) {
      case 'refused':
        this.logger.warn(
          { orderId, messageId: envelope.id },
          'ChargePayment after its refund was requested: not charged',
        );
        return written(await this.payments.write(orderId, { inbox: envelope.id }));
      case 'answer':
        return written(
          await this.payments.write(orderId, { reply: (current) => chargeReply(context, current), inbox: envelope.id }),
        );
      case 'call-provider': {
        // What was recorded is sent, unchanged, on every retry: the same key with another body would be refused.
        const reply = await this.provider.charge({
          orderId,
          amountCents: state.amountCents,
          currency: state.currency,
          token: paymentToken,
        });
        const outcome: ChargeOutcome =
          reply.outcome === 'captured'
            ? { status: 'captured', chargeId: reply.chargeId, amountCents: state.amountCents }
            : { status: 'declined', chargeId: reply.chargeId, reason: reply.reason };
        return written(
          await this.payments.write(orderId, {
            decide: (current) => paymentDecider.decide({ kind: 'RecordCharge', outcome }, current),
            reply: (current) => chargeReply(context, current),
            inbox: envelope.id,
            metadata: context.meta,
          }),
        );
      }
      default: {
        const unknown: never = step;
        throw new Error(`unknown charge step ${String(unknown)}`);
      }
    }
  }
}

const written = (result: WriteResult): PaymentState | undefined =>
  result.outcome === 'written' ? result.state : undefined;
