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
import type { ServiceConfig } from './config';
import { ORDER_MIGRATIONS } from './order/order.migrations';
import { OrderStore } from './order/order.store';
import { PlaceOrderHandler } from './place-order/place-order.handler';
import { SagaTimeouts } from './saga/saga-timeouts';
import { SAGA_MESSAGE_TYPES, SagaProcessManager } from './saga/saga.process-manager';

const NAME = 'order-service';

/** Starts order-service: used by main.ts and by the integration tests. */
export async function startOrderService(config: ServiceConfig) {
  const logger = createLogger({ service: NAME, level: config.LOG_LEVEL });
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    applicationName: NAME,
    onIdleError: (error) => logger.warn({ err: error }, 'idle database connection lost'),
  });
  await migrate(pool, [...EVENT_STORE_MIGRATIONS, ...ORDER_MIGRATIONS]);
  const store = new EventStore(pool);
  const orders = new OrderStore(pool, store, config.STACK_ID);

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: NAME });
  const admin = kafka.admin();
  await admin.connect();
  // order-service owns order.events; the command topics it writes to belong to their services,
  // but it provisions them too so an order accepted before they start is not lost.
  await ensureTopics(admin, [
    topicSpec(config.STACK_ID, TOPICS.orderEvents),
    topicSpec(config.STACK_ID, TOPICS.inventoryCommands),
    topicSpec(config.STACK_ID, TOPICS.paymentCommands),
    topicSpec(config.STACK_ID, TOPICS.inventoryEvents),
    topicSpec(config.STACK_ID, TOPICS.paymentEvents),
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

  const saga = new SagaProcessManager(pool, orders);
  const consumer = createConsumer({
    kafka,
    groupId: scoped(config.STACK_ID, NAME),
    topics: [scoped(config.STACK_ID, TOPICS.inventoryEvents.name), scoped(config.STACK_ID, TOPICS.paymentEvents.name)],
    handledTypes: SAGA_MESSAGE_TYPES,
    handler: (envelope, context) => saga.handle(envelope, context),
    batchHandler: (items) => saga.handleBatch(items),
    logger,
  });
  const timeouts = new SagaTimeouts(pool, orders, logger);
  timeouts.start();

  const kafkaCheck = kafkaReadiness(kafka);
  const app = await bootstrapService({
    name: NAME,
    config,
    port: config.ORDER_SERVICE_PORT,
    module: AppModule.register({
      pool,
      orders,
      placeOrder: new PlaceOrderHandler(pool, orders, config.SAGA_TIMEOUT_MS),
    }),
    readiness: [postgresReadiness(pool), kafkaCheck, consumer.readiness],
    onShutdown: [
      () => timeouts.stop(),
      () => consumer.stop(),
      () => relay.stop(),
      () => producer.disconnect(),
      () => kafkaCheck.close(),
      () => pool.end(),
    ],
  });
  // After listen: /health/live answers while the group join waits (ready once joined).
  await consumer.start();
  return { app, pool, orders, saga, timeouts };
}
