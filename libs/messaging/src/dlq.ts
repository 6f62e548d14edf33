import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import {
  DLQ_HEADERS,
  REDRIVEN_FROM_HEADER,
  deadLetterTopic,
  decodeHeaders,
  withoutDeadLetterHeaders,
} from './dead-letter';
import { createProducer } from './producer';

/** One message of a `<topic>.dlq`, with what its dlq-* headers say. */
export interface DeadLetter {
  readonly dlqTopic: string;
  readonly dlqPartition: number;
  readonly dlqOffset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: string | undefined;
  readonly error: string | undefined;
  readonly originalTopic: string | undefined;
  readonly originalPartition: number | undefined;
  readonly originalOffset: string | undefined;
  readonly failedAt: string | undefined;
  readonly consumerGroup: string | undefined;
}

export interface DlqOptions {
  /** At most this many dead letters. Default 100. */
  readonly limit?: number;
  /** Fails if the DLQ cannot be read to its end within this time. Default 30 s. */
  readonly timeoutMs?: number;
}

export interface RedriveResult {
  /** What was put back, in DLQ order. The redrive group's committed offsets record it durably. */
  readonly redriven: readonly DeadLetter[];
  readonly consumerGroup: string;
}

function toDeadLetter(dlqTopic: string, partition: number, message: KafkaMessage): DeadLetter {
  const headers = decodeHeaders(message.headers);
  const originalPartition = headers[DLQ_HEADERS.originalPartition];
  return {
    dlqTopic,
    dlqPartition: partition,
    dlqOffset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value: message.value?.toString('utf8') ?? null,
    headers,
    reason: headers[DLQ_HEADERS.reason],
    error: headers[DLQ_HEADERS.error],
    originalTopic: headers[DLQ_HEADERS.originalTopic],
    originalPartition: originalPartition === undefined ? undefined : Number(originalPartition),
    originalOffset: headers[DLQ_HEADERS.originalOffset],
    failedAt: headers[DLQ_HEADERS.failedAt],
    consumerGroup: headers[DLQ_HEADERS.consumerGroup],
  };
}

/**
 * Reads `dlqTopic` from where `groupId` stands (the beginning for a new group)
 * up to the end it had when the read began, handing each message to `visit`
 * until `limit` messages were visited.
 */
async function readToEnd(
  kafka: Kafka,
  dlqTopic: string,
  groupId: string,
  options: DlqOptions,
  visit: (partition: number, message: KafkaMessage, commit: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const limit = options.limit ?? 100;
  const admin = kafka.admin();
  await admin.connect();
  const last = new Map<number, bigint>();
  try {
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(dlqTopic),
      admin.fetchOffsets({ groupId, topics: [dlqTopic] }),
    ]);
    const positions = committed[0]?.partitions ?? [];
    for (const end of ends) {
      const position = positions.find((entry) => entry.partition === end.partition)?.offset;
      const from = position === undefined || BigInt(position) < 0n ? BigInt(end.low) : BigInt(position);
      if (from < BigInt(end.high)) last.set(end.partition, BigInt(end.high) - 1n);
    }
  } finally {
    await admin.disconnect();
  }
  if (!last.size || limit <= 0) return;

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 200 });
  let visited = 0;
  let settle: (error?: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  const timer = setTimeout(
    () => settle(new Error(`${dlqTopic} was not read to its end within ${options.timeoutMs ?? 30_000} ms`)),
    options.timeoutMs ?? 30_000,
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const end = last.get(partition);
        if (end === undefined || visited >= limit || BigInt(message.offset) > end) return;
        visited++;
        try {
          await visit(partition, message, () =>
            consumer.commitOffsets([{ topic: dlqTopic, partition, offset: (BigInt(message.offset) + 1n).toString() }]),
          );
        } catch (error) {
          settle(error);
          return;
        }
        if (BigInt(message.offset) === end) last.delete(partition);
        if (!last.size || visited >= limit) settle();
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

/** The dead letters of `topic` (read from `<topic>.dlq`, from the beginning), without consuming them. */
export async function inspectDlq(kafka: Kafka, topic: string, options: DlqOptions = {}): Promise<DeadLetter[]> {
  const dlqTopic = deadLetterTopic(topic);
  // A throwaway group that never commits: inspecting changes nothing.
  const groupId = `${dlqTopic}.inspect.${randomBytes(4).toString('hex')}`;
  const found: DeadLetter[] = [];
  try {
    await readToEnd(kafka, dlqTopic, groupId, options, async (partition, message) => {
      found.push(toDeadLetter(dlqTopic, partition, message));
    });
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return found.sort((a, b) => a.dlqPartition - b.dlqPartition || Number(BigInt(a.dlqOffset) - BigInt(b.dlqOffset)));
}

/**
 * Puts dead letters of `topic` back on their original topic, with their key,
 * value and original headers (plus `redriven-from`), for a fixed handler to
 * take. The group `<topic>.dlq.redrive` commits past each one after it is
 * re-published, so a dead letter is redriven once; a crash in between means
 * it is redriven twice, which idempotent consumers absorb.
 */
export async function redriveDlq(kafka: Kafka, topic: string, options: DlqOptions = {}): Promise<RedriveResult> {
  const dlqTopic = deadLetterTopic(topic);
  const consumerGroup = `${dlqTopic}.redrive`;
  const producer = createProducer(kafka);
  const redriven: DeadLetter[] = [];
  await producer.connect();
  try {
    await readToEnd(kafka, dlqTopic, consumerGroup, options, async (partition, message, commit) => {
      const deadLetter = toDeadLetter(dlqTopic, partition, message);
      await producer.send(deadLetter.originalTopic ?? topic, [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...withoutDeadLetterHeaders(message.headers),
            [REDRIVEN_FROM_HEADER]: `${dlqTopic}/${partition}/${message.offset}`,
          },
        },
      ]);
      await commit();
      redriven.push(deadLetter);
    });
  } finally {
    await producer.disconnect();
  }
  return { redriven, consumerGroup };
}
