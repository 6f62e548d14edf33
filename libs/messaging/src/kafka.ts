import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import type { ReadinessCheck } from '@shop/health';
import { applyKafkajsIdleFix } from './kafkajs-idle-fix';

export interface KafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

export function createKafka(options: KafkaOptions, overrides: Partial<KafkaConfig> = {}): Kafka {
  applyKafkajsIdleFix();
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 100, retries: 8 },
    ...overrides,
  });
}

/** Topic, consumer-group and database names carry the stack id, so stacks never share them. */
export function scoped(stackId: string, name: string): string {
  return `${stackId}.${name}`;
}

/**
 * Ready when the broker answers a metadata request. The admin client is
 * connected once and reused: a probe must not open a connection per call.
 */
export function kafkaReadiness(kafka: Kafka): ReadinessCheck & { close(): Promise<void> } {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  return {
    name: 'kafka',
    async check() {
      connected ??= admin.connect().catch((error: unknown) => {
        connected = undefined;
        throw error;
      });
      await connected;
      const cluster = await admin.describeCluster();
      return { brokers: cluster.brokers.length, controller: cluster.controller };
    },
    async close() {
      await admin.disconnect();
    },
  };
}
