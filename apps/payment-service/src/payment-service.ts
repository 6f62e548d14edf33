import type { NestFastifyApplication } from '@nestjs/platform-fastify';
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
import { createLogger, type DestinationStream } from '@shop/observability';
import { PolicyRegistry, policyReadinessDetail } from '@shop/resilience';
import { AppModule } from './app.module';
import { ChargePaymentHandler } from './charge-payment/charge-payment.handler';
import type { ServiceConfig } from './config';
import { PaymentStore } from './payment/payment.store';
import { createProviderPolicy, PaymentProviderClient } from './provider/payment-provider.client';
import { RefundPaymentHandler } from './refund-payment/refund-payment.handler';

const NAME = 'payment-service';

export interface StartOptions {
  /** Where log lines go (tests keep them); stdout otherwise. */
  readonly logDestination?: DestinationStream;
}

/**
 * Starts payment-service, as main.ts and the integration tests do: its event
 * store, its topics (it owns payment.commands and payment.events), the outbox
 * relay, the one policy in front of the payment provider, the HTTP side
 * through bootstrapService (health with the breaker in its details, metrics,
 * GET /payments/:orderId), then the consumer of the saga's payment commands.
 * app.close() stops it in the order shown in onShutdown.
 */
export async function startPaymentService(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<NestFastifyApplication> {
  const logDestination = options.logDestination ? { logDestination: options.logDestination } : {};
  const logger = createLogger({
    service: NAME,
    level: config.LOG_LEVEL,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    applicationName: NAME,
    onIdleError: (error) => logger.warn({ err: error }, 'idle database connection lost'),
  });
  // What is already running when a later step fails, stopped last-started first.
  const started: Array<() => Promise<void>> = [() => pool.end()];
  try {
    await migrate(pool, EVENT_STORE_MIGRATIONS);
    const payments = new PaymentStore(pool, new EventStore(pool));

    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: NAME });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [
        topicSpec(config.STACK_ID, TOPICS.paymentCommands),
        topicSpec(config.STACK_ID, TOPICS.paymentEvents),
      ]);
    } finally {
      await admin.disconnect();
    }

    const producer = createProducer(kafka);
    await producer.connect();
    started.unshift(() => producer.disconnect());
    const relay = new OutboxRelay(pool, kafkaOutboxPublisher(producer), {
      listenConnectionString: config.DATABASE_URL,
      logger,
      retention: { sentMs: 24 * 3600_000, inboxMs: 14 * 24 * 3600_000, everyMs: 10 * 60_000 },
    });
    relay.start();
    started.unshift(() => relay.stop());

    // A registry of its own: policy names are unique per registry, and tests run several services in one process.
    const policies = new PolicyRegistry();
    started.unshift(async () => policies.shutdown());
    const provider = new PaymentProviderClient(
      config.PAYMENT_PROVIDER_URL,
      createProviderPolicy(config, policies, logger),
    );
    const refunds = new RefundPaymentHandler(payments, provider, config.STACK_ID);
    const charges = new ChargePaymentHandler(payments, provider, refunds, config.STACK_ID, logger);

    const consumer = createConsumer({
      kafka,
      groupId: scoped(config.STACK_ID, NAME),
      topics: [scoped(config.STACK_ID, TOPICS.paymentCommands.name)],
      logger,
      retry: {
        attempts: config.COMMAND_RETRY_ATTEMPTS,
        baseDelayMs: config.COMMAND_RETRY_BASE_DELAY_MS,
        maxDelayMs: config.COMMAND_RETRY_MAX_DELAY_MS,
      },
      handler: async (envelope) => {
        switch (envelope.type) {
          case 'ChargePayment':
            return charges.handle(envelope);
          case 'RefundPayment':
            return refunds.handle(envelope);
          default:
            // Other messages on the topic are not ours to act on.
            return;
        }
      },
    });
    started.unshift(() => consumer.stop());

    const kafkaCheck = kafkaReadiness(kafka);
    started.unshift(() => kafkaCheck.close());
    const app = await bootstrapService({
      name: NAME,
      config,
      port: config.PAYMENT_SERVICE_PORT,
      module: AppModule.register({ payments }),
      readiness: [postgresReadiness(pool), kafkaCheck, consumer.readiness],
      // The breaker is shown, never counted: an open breaker to the provider does not make this service unready.
      details: [policyReadinessDetail(policies)],
      // Stop taking work (in-flight commands finish), abort what still waits on the provider,
      // publish what is committed, then let go of connections.
      onShutdown: [
        () => consumer.stop(),
        async () => policies.shutdown(),
        () => relay.stop(),
        () => producer.disconnect(),
        () => kafkaCheck.close(),
        () => pool.end(),
      ],
      ...logDestination,
    });
    started.unshift(() => app.close());
    // After listen: /health/live answers while the group join waits (ready once joined).
    await consumer.start();
    return app;
  } catch (error) {
    for (const stop of started) await stop().catch(() => undefined);
    throw error;
  }
}
