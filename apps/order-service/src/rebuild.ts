import { runRebuild } from '@shop/event-store';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@shop/health';
import { ORDER_MIGRATIONS } from './order/order.migrations';
import { ordersProjection } from './orders/orders.projection';

/**
 * `npm run rebuild -- order-service`: replays every event of order-service's
 * store into a fresh `orders` read model, in one transaction (readers and
 * writers of the running service wait for it, then see the rebuilt model).
 * It needs only the service's database (DATABASE_URL), not the broker.
 *
 * `catalog` is not rebuilt here: it is order-service's copy of inventory's
 * catalog, fed by inventory.events, not by this store. It is refilled by
 * replaying that topic (the group's offsets reset, and the `order-saga` inbox
 * rows of the replayed messages deleted, or the inbox skips them), and each
 * product by inventory's next change to it.
 */
runRebuild(() => ({
  service: 'order-service',
  databaseUrl: loadConfig('order-service', { ...baseConfigShape, ...databaseConfigShape }).DATABASE_URL,
  migrations: ORDER_MIGRATIONS,
  projections: [ordersProjection],
}));
