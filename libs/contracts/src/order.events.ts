import { z } from 'zod';
import { Cents, Currency, OrderId, Quantity, Sku } from './fields';
import { defineMessage } from './message';
import { CancellationReason, RejectionReason } from './reasons';
import { TOPICS } from './topics';

/** Integration events order-service publishes on `order.events`, keyed by order id. */

export const OrderPlaced = defineMessage({
  type: 'OrderPlaced',
  version: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  description: 'An order was accepted (202) and is PENDING; its lines are priced and its total is fixed.',
  schema: z.object({
    orderId: OrderId,
    userId: z.string().min(1),
    items: z
      .array(z.object({ sku: Sku, quantity: Quantity, priceCents: Cents }))
      .min(1)
      .max(50),
    totalCents: Cents,
    currency: Currency,
  }),
  key: (payload) => payload.orderId,
});

export const OrderConfirmed = defineMessage({
  type: 'OrderConfirmed',
  version: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  description: 'Stock is committed and the payment captured: the order is CONFIRMED.',
  schema: z.object({ orderId: OrderId }),
  key: (payload) => payload.orderId,
});

export const OrderRejected = defineMessage({
  type: 'OrderRejected',
  version: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  description: 'The saga could not complete the order; what it had done is compensated. The order is REJECTED.',
  schema: z.object({ orderId: OrderId, reason: RejectionReason }),
  key: (payload) => payload.orderId,
});

export const OrderCancelled = defineMessage({
  type: 'OrderCancelled',
  version: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  description: 'The customer cancelled a PENDING or CONFIRMED order; stock is returned and any capture refunded.',
  schema: z.object({ orderId: OrderId, reason: CancellationReason }),
  key: (payload) => payload.orderId,
});

export const ORDER_EVENTS = [OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled] as const;
