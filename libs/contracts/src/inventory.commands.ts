import { z } from 'zod';
import { OrderId, OrderLine, OrderLines } from './fields';
import { defineMessage, defineUpcaster } from './message';
import { TOPICS } from './topics';

/** Saga commands order-service sends to inventory-service on `inventory.commands`, keyed by order id. */

/**
 * Superseded by ReserveStock v2 (`lines` was renamed `items`, the word used
 * everywhere else). Published, so never edited: messages of this version may
 * still sit on the topic and are read through the upcaster below.
 */
export const ReserveStockV1 = defineMessage({
  type: 'ReserveStock',
  version: 1,
  kind: 'command',
  topic: TOPICS.inventoryCommands,
  description: 'Superseded by v2 (lines renamed items). Reserve every line of an order, or none.',
  schema: z.object({ orderId: OrderId, lines: z.array(OrderLine).min(1).max(50) }),
  key: (payload) => payload.orderId,
});

export const ReserveStock = defineMessage({
  type: 'ReserveStock',
  version: 2,
  kind: 'command',
  topic: TOPICS.inventoryCommands,
  description: 'Reserve every line of an order, or none. Answered by StockReserved or StockReservationFailed.',
  schema: z.object({ orderId: OrderId, items: OrderLines }),
  key: (payload) => payload.orderId,
});

export const reserveStockV1ToV2 = defineUpcaster(ReserveStockV1, ReserveStock, ({ orderId, lines }) => ({
  orderId,
  items: lines,
}));

export const ReleaseStock = defineMessage({
  type: 'ReleaseStock',
  version: 1,
  kind: 'command',
  topic: TOPICS.inventoryCommands,
  description:
    "Compensation: return the order's reserved stock. Answered by StockReleased (also when nothing was held).",
  schema: z.object({ orderId: OrderId }),
  key: (payload) => payload.orderId,
});

export const CommitStock = defineMessage({
  type: 'CommitStock',
  version: 1,
  kind: 'command',
  topic: TOPICS.inventoryCommands,
  description: 'The order is paid: its reserved stock is sold for good. Answered by StockCommitted.',
  schema: z.object({ orderId: OrderId }),
  key: (payload) => payload.orderId,
});

export const INVENTORY_COMMANDS = [ReserveStock, ReleaseStock, CommitStock] as const;
export const SUPERSEDED_INVENTORY_COMMANDS = [ReserveStockV1] as const;
export const INVENTORY_COMMAND_UPCASTERS = [reserveStockV1ToV2] as const;
