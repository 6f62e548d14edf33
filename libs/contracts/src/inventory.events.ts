import { z } from 'zod';
import { Cents, Currency, OrderId, OrderLine, OrderLines, Sku } from './fields';
import { defineMessage } from './message';
import { StockReservationFailureReason } from './reasons';
import { TOPICS } from './topics';

/**
 * Events inventory-service publishes on `inventory.events`: replies to the
 * saga (keyed by order id) and catalog facts (keyed by SKU) that order-service
 * projects, so it can price and check orders while inventory-service is down.
 */

export const StockReserved = defineMessage({
  type: 'StockReserved',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description: 'Every line of the order is reserved; available stock dropped by its quantities.',
  schema: z.object({ orderId: OrderId, items: OrderLines }),
  key: (payload) => payload.orderId,
});

export const StockReservationFailed = defineMessage({
  type: 'StockReservationFailed',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description:
    'Nothing was reserved: the listed SKUs are short (OUT_OF_STOCK) or not in the catalog (UNKNOWN_PRODUCT).',
  schema: z.object({ orderId: OrderId, reason: StockReservationFailureReason, skus: z.array(Sku).min(1) }),
  key: (payload) => payload.orderId,
});

export const StockReleased = defineMessage({
  type: 'StockReleased',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description: "The order's reservation is returned to available stock; items is empty when nothing was held.",
  schema: z.object({ orderId: OrderId, items: z.array(OrderLine).max(50) }),
  key: (payload) => payload.orderId,
});

export const StockCommitted = defineMessage({
  type: 'StockCommitted',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description: "The order's reservation is sold for good.",
  schema: z.object({ orderId: OrderId, items: OrderLines }),
  key: (payload) => payload.orderId,
});

/**
 * Catalog facts carry the whole product as it is after the change, so the
 * projection in order-service is a plain upsert and never depends on order.
 */
const Product = z.object({
  sku: Sku,
  name: z.string().min(1),
  priceCents: Cents,
  currency: Currency,
  available: z.int().nonnegative(),
});

export const ProductAdded = defineMessage({
  type: 'ProductAdded',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description: 'A product entered the catalog (the whole product after the change).',
  schema: Product,
  key: (payload) => payload.sku,
});

export const ProductPriceChanged = defineMessage({
  type: 'ProductPriceChanged',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description: "A product's unit price changed (the whole product after the change).",
  schema: Product,
  key: (payload) => payload.sku,
});

export const StockLevelChanged = defineMessage({
  type: 'StockLevelChanged',
  version: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  description:
    "A product's available stock changed: received, reserved, released (the whole product after the change).",
  schema: Product,
  key: (payload) => payload.sku,
});

export const INVENTORY_EVENTS = [
  StockReserved,
  StockReservationFailed,
  StockReleased,
  StockCommitted,
  ProductAdded,
  ProductPriceChanged,
  StockLevelChanged,
] as const;
