import { TOPICS } from '@shop/contracts';
import {
  createPool,
  EVENT_STORE_MIGRATIONS,
  EventStore,
  kafkaOutboxPublisher,
  migrate,
  OutboxRelay,
  postgresReadiness,
} from '@shop/event-store';
import { bootstrapService } from '@shop/health';
import {
  createConsumer,
  createKafka,
  createProducer,
  ensureTopics,
  kafkaReadiness,
  scoped,
  topicSpec,
} from '@shop/messaging';
import { createLogger } from '@shop/observability';
import { AppModule } from './app.module';
import { seedCatalog } from './catalog/seed';
import type { ServiceConfig } from './config';
import { ReservationHandler } from './reservations/reservation.handler';
import { PRODUCTS_MIGRATIONS } from './stock/products.projection';
import { StockStore } from './stock/stock.store';

const NAME = 'inventory-service';

/** Starts inventory-service: used by main.ts and by the integration tests. */
export async function startInventoryService(config: ServiceConfig) {
  const logger = createLogger({ service: NAME, level: config.LOG_LEVEL });
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    applicationName: NAME,
    onIdleError: (error) => logger.warn({ err: error }, 'idle database connection lost'),
  });
  await migrate(pool, [...EVENT_STORE_MIGRATIONS, ...PRODUCTS_MIGRATIONS]);
  const store = new EventStore(pool);
  const stock = new StockStore(pool, store);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: NAME });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    topicSpec(config.STACK_ID, TOPICS.inventoryCommands),
    topicSpec(config.STACK_ID, TOPICS.inventoryEvents),
  ]);
  await admin.disconnect();

  const producer = createProducer(kafka);
  await producer.connect();
  const relay = new OutboxRelay(pool, kafkaOutboxPublisher(producer), {
    listenConnectionString: config.DATABASE_URL,
    logger,
    retention: { sentMs: 24 * 3600_000, inboxMs: 14 * 24 * 3600_000, everyMs: 10 * 60_000 },
  });
  relay.start();

  const added = await seedCatalog(stock, config.STACK_ID);
  if (added > 0) logger.info({ added }, 'seeded the catalog');

  const handler = new ReservationHandler(pool, stock, config.STACK_ID);
  const consumer = createConsumer({
    kafka,
    groupId: scoped(config.STACK_ID, NAME),
    topics: [scoped(config.STACK_ID, TOPICS.inventoryCommands.name)],
    handler: (envelope, context) => handler.handle(envelope, context),
    batchHandler: (items) => handler.handleBatch(items),
    logger,
  });

  const kafkaCheck = kafkaReadiness(kafka);
  const app = await bootstrapService({
    name: NAME,
    config,
    port: config.INVENTORY_SERVICE_PORT,
    module: AppModule.register({ pool, stock, admin: { token: config.ADMIN_TOKEN, stackId: config.STACK_ID } }),
    readiness: [postgresReadiness(pool), kafkaCheck, consumer.readiness],
    // Stop taking work first, publish what is committed, then let go of connections.
    onShutdown: [
      () => consumer.stop(),
      () => relay.stop(),
      () => producer.disconnect(),
      () => kafkaCheck.close(),
      () => pool.end(),
    ],
  });
  // After listen: /health/live answers while the group join waits (ready once joined).
  await consumer.start();
  return { app, pool, stock, handler };
}
