import { z } from 'zod';
import { Cents, OrderId } from './fields';
import { defineMessage } from './message';
import { PaymentDeclineReason } from './reasons';
import { TOPICS } from './topics';

/** Replies payment-service publishes on `payment.events`, keyed by order id. */

export const PaymentCaptured = defineMessage({
  type: 'PaymentCaptured',
  version: 1,
  kind: 'event',
  topic: TOPICS.paymentEvents,
  description: "The order's total was captured by the card processor.",
  schema: z.object({
    orderId: OrderId,
    paymentId: z.string().min(1),
    amountCents: Cents.min(1),
    chargeId: z.string().min(1).describe("The card processor's charge id."),
  }),
  key: (payload) => payload.orderId,
});

export const PaymentDeclined = defineMessage({
  type: 'PaymentDeclined',
  version: 1,
  kind: 'event',
  topic: TOPICS.paymentEvents,
  description: 'The card processor declined the charge; nothing was captured.',
  schema: z.object({ orderId: OrderId, paymentId: z.string().min(1), reason: PaymentDeclineReason }),
  key: (payload) => payload.orderId,
});

export const PaymentRefunded = defineMessage({
  type: 'PaymentRefunded',
  version: 1,
  kind: 'event',
  topic: TOPICS.paymentEvents,
  description:
    'What was captured for the order is refunded; amountCents is 0 and refundId null when nothing was captured.',
  schema: z.object({ orderId: OrderId, amountCents: Cents, refundId: z.string().min(1).nullable() }),
  key: (payload) => payload.orderId,
});

export const PAYMENT_EVENTS = [PaymentCaptured, PaymentDeclined, PaymentRefunded] as const;
