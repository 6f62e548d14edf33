import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import {
  ChargePayment,
  createEnvelope,
  type OutgoingMessage,
  type ReceivedEnvelope,
  RefundPayment,
  TOPICS,
} from '@shop/contracts';
import {
  createConsumer,
  createKafka,
  createProducer,
  deadLetterTopic,
  type MessageConsumer,
  scoped,
} from '@shop/messaging';
import { createLogger } from '@shop/observability';
import { createTestDatabase, kafkaBrokers, type TestDatabase, uniqueName, waitFor } from '@shop/testing';
import { loadServiceConfig, type ServiceConfig } from '../config';
import { startPaymentService } from '../payment-service';

/**
 * Test helper (specs only, not part of the build): payment-service started
 * in this process through startPaymentService (so the real consumer, outbox
 * relay, policy and HTTP server), on a fresh database and a stack id of its
 * own (so topics and groups of its own), with a producer for the saga's
 * commands and a consumer that collects what it publishes on payment.events.
 */
export interface ServiceUnderTest {
  readonly url: string;
  readonly stackId: string;
  readonly db: TestDatabase;
  readonly config: ServiceConfig;
  chargeMessage(orderId: string, amountCents: number, paymentToken?: string): OutgoingMessage;
  refundMessage(orderId: string): OutgoingMessage;
  /** Publishes on payment.commands (the same message twice is a redelivery: one id). */
  publish(...messages: OutgoingMessage[]): Promise<void>;
  /** What payment-service published for the order so far, in order. */
  events(orderId: string): ReceivedEnvelope[];
  /** Waits until at least `count` events of `type` were published for the order; returns them all. */
  waitForEvents(orderId: string, type: string, count?: number, timeoutMs?: number): Promise<ReceivedEnvelope[]>;
  /** True once the command's inbox row is committed (its handling is over). */
  handled(messageId: string): Promise<boolean>;
  /** Messages on payment.commands.dlq. */
  deadLetters(): Promise<number>;
  /** Rows written to the outbox for the order, by message type. */
  outboxTypes(orderId: string): Promise<string[]>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  logs(): string;
  stop(): Promise<void>;
}

/** uniqueName, squeezed into what STACK_ID allows (lowercase letters and digits, at most 16). */
function uniqueStackId(): string {
  const name = uniqueName('p').replace(/[^a-z0-9]/g, '');
  return name.length <= 16 ? name : `${name.slice(0, 7)}${name.slice(-9)}`;
}

export async function startServiceUnderTest(
  providerUrl: string,
  env: Record<string, string> = {},
): Promise<ServiceUnderTest> {
  const stackId = uniqueStackId();
  const db = await createTestDatabase('payment', { max: 2 });
  const lines: string[] = [];
  const config: ServiceConfig = {
    ...loadServiceConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      DATABASE_URL: db.url,
      DB_POOL_MAX: '4',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      STACK_ID: stackId,
      PAYMENT_PROVIDER_URL: providerUrl,
      // Small numbers, so a test sees timeouts, retries and the breaker in seconds.
      PROVIDER_TIMEOUT_MS: '400',
      PROVIDER_RETRY_ATTEMPTS: '2',
      PROVIDER_RETRY_BASE_DELAY_MS: '20',
      PROVIDER_RETRY_MAX_DELAY_MS: '50',
      PROVIDER_BREAKER_VOLUME_THRESHOLD: '4',
      PROVIDER_BREAKER_RESET_MS: '1000',
      COMMAND_RETRY_BASE_DELAY_MS: '50',
      COMMAND_RETRY_MAX_DELAY_MS: '300',
      ...env,
    }),
    PAYMENT_SERVICE_PORT: 0,
  };

  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'payment-service-int' });
  const admin: Admin = kafka.admin();
  const producer = createProducer(kafka);
  const received: ReceivedEnvelope[] = [];
  let tap: MessageConsumer | undefined;
  const app = await startPaymentService(config, { logDestination: { write: (line: string) => lines.push(line) } });
  try {
    await admin.connect();
    await producer.connect();
    tap = createConsumer({
      kafka,
      groupId: uniqueName('payment-events-tap'),
      topics: [scoped(stackId, TOPICS.paymentEvents.name)],
      logger: createLogger({ service: 'payment-events-tap', level: 'silent' }),
      handler: async (envelope) => {
        received.push(envelope);
      },
    });
    await tap.start();
  } catch (error) {
    await app.close();
    await db.drop();
    throw error;
  }
  const url = await app.getUrl();
  const commandsTopic = scoped(stackId, TOPICS.paymentCommands.name);
  const meta = (orderId: string) => ({ correlationId: orderId, causationId: `int-test-${randomUUID()}` });
  const events = (orderId: string) =>
    received.filter((envelope) => (envelope.payload as { orderId?: string }).orderId === orderId);

  return {
    url,
    stackId,
    db,
    config,
    chargeMessage: (orderId, amountCents, paymentToken = 'tok_visa') =>
      createEnvelope(ChargePayment, { orderId, amountCents, currency: 'EUR', paymentToken }, meta(orderId)),
    refundMessage: (orderId) => createEnvelope(RefundPayment, { orderId }, meta(orderId)),
    async publish(...messages) {
      for (const message of messages) await producer.send(commandsTopic, [message]);
    },
    events,
    waitForEvents: (orderId, type, count = 1, timeoutMs = 30_000) =>
      waitFor(
        `${count} ${type} for order ${orderId}`,
        () => {
          const found = events(orderId).filter((envelope) => envelope.type === type);
          return found.length >= count ? found : undefined;
        },
        { timeoutMs },
      ),
    async handled(messageId) {
      const result = await db.pool.query('select 1 from inbox where message_id = $1', [messageId]);
      return result.rowCount === 1;
    },
    async deadLetters() {
      const ends = await admin.fetchTopicOffsets(deadLetterTopic(commandsTopic));
      return ends.reduce((sum, end) => sum + Number(end.high) - Number(end.low), 0);
    },
    async outboxTypes(orderId) {
      const result = await db.pool.query<{ type: string }>(
        `select value::jsonb->>'type' as type from outbox where key = $1 order by id`,
        [orderId],
      );
      return result.rows.map((row) => row.type);
    },
    async get(path) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    logs: () => lines.join(''),
    async stop() {
      await app.close();
      await tap?.stop();
      await producer.disconnect();
      const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(`${stackId}.`));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
      await admin.disconnect();
      await db.drop();
    },
  };
}
