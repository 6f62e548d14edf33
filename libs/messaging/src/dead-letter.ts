import type { IHeaders, Message } from 'kafkajs';
import type { DeadLetterReason } from './errors';

/**
 * A message that cannot be handled goes to `<topic>.dlq` unchanged (key, value,
 * headers), with these headers saying why and where it came from. One DLQ per
 * topic, shared by every consumer group of it (dlq-consumer-group says which one failed).
 */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  error: 'dlq-error',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  failedAt: 'dlq-failed-at',
  consumerGroup: 'dlq-consumer-group',
  attempts: 'dlq-attempts',
} as const;

/** Set on a message put back on its topic by redriveDlq: `<dlq topic>/<partition>/<offset>`. */
export const REDRIVEN_FROM_HEADER = 'redriven-from';

const MAX_ERROR_LENGTH = 2_000;

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export interface Failure {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly reason: DeadLetterReason;
  readonly error: unknown;
  readonly consumerGroup: string;
  readonly attempts: number;
  readonly failedAt: Date;
}

export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

export function deadLetterMessage(
  original: {
    readonly key: Buffer | string | null;
    readonly value: Buffer | string | null;
    readonly headers?: IHeaders;
  },
  failure: Failure,
): Message {
  return {
    key: original.key,
    value: original.value,
    headers: {
      ...original.headers,
      [DLQ_HEADERS.reason]: failure.reason,
      [DLQ_HEADERS.error]: describeError(failure.error),
      [DLQ_HEADERS.originalTopic]: failure.topic,
      [DLQ_HEADERS.originalPartition]: String(failure.partition),
      [DLQ_HEADERS.originalOffset]: failure.offset,
      [DLQ_HEADERS.failedAt]: failure.failedAt.toISOString(),
      [DLQ_HEADERS.consumerGroup]: failure.consumerGroup,
      [DLQ_HEADERS.attempts]: String(failure.attempts),
    },
  };
}

/** Headers as text (kafkajs hands them over as Buffers); the first value of a repeated header. */
export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) decoded[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return decoded;
}

/** The original headers of a dead letter: what it carried before it failed. */
export function withoutDeadLetterHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !name.startsWith('dlq-')));
}
