import { z } from 'zod';
import { Cents, Currency, OrderId } from './fields';
import { defineMessage } from './message';
import { TOPICS } from './topics';

/** Saga commands order-service sends to payment-service on `payment.commands`, keyed by order id. */

export const ChargePayment = defineMessage({
  type: 'ChargePayment',
  version: 1,
  kind: 'command',
  topic: TOPICS.paymentCommands,
  description:
    "Charge the order's total once (the order id is the provider's idempotency key). Answered by PaymentCaptured or PaymentDeclined.",
  schema: z.object({
    orderId: OrderId,
    amountCents: Cents.min(1),
    currency: Currency,
    paymentToken: z.string().min(1).describe("The card processor's token (docs/contract.md, paymentToken)."),
  }),
  key: (payload) => payload.orderId,
});

export const RefundPayment = defineMessage({
  type: 'RefundPayment',
  version: 1,
  kind: 'command',
  topic: TOPICS.paymentCommands,
  description:
    'Compensation: refund whatever was captured for the order, exactly once. Answered by PaymentRefunded (also when nothing was captured).',
  schema: z.object({ orderId: OrderId }),
  key: (payload) => payload.orderId,
});

export const PAYMENT_COMMANDS = [ChargePayment, RefundPayment] as const;
