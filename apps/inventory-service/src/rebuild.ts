import { runRebuild } from '@shop/event-store';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@shop/health';
import { PRODUCTS_MIGRATIONS, productsProjection } from './stock/products.projection';

/**
 * `npm run rebuild -- inventory-service`: replays every stock event into
 * fresh `products` and `reservations` read models, in one transaction
 * (readers and writers of the running service wait for it, then see the
 * rebuilt model). It needs only the service's database (DATABASE_URL), not
 * the broker.
 */
runRebuild(() => ({
  service: 'inventory-service',
  databaseUrl: loadConfig('inventory-service', { ...baseConfigShape, ...databaseConfigShape }).DATABASE_URL,
  migrations: PRODUCTS_MIGRATIONS,
  projections: [productsProjection],
}));
