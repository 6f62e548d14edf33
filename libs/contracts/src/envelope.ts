import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { contracts, type CurrentMessageDefinition } from './contracts';
import type { AnyMessageDefinition, PayloadOf } from './message';
import type { MessageRegistry } from './registry';

/**
 * The one envelope every message carries (style rule 7). `createEnvelope`
 * builds the Kafka message, `readEnvelope` reads one back; nothing else
 * touches the wire format. The body is JSON; W3C trace context travels in the
 * Kafka headers, where OpenTelemetry's kafkajs instrumentation looks for it.
 */
export const EnvelopeSchema = z.object({
  id: z.uuid().describe('Unique per message; the inbox of a consumer deduplicates on it.'),
  type: z.string().min(1).describe('The message type, e.g. ReserveStock.'),
  version: z.int().positive().describe('The schema version of the payload.'),
  key: z.string().min(1).describe('The Kafka key: the aggregate id (the order id for every saga message).'),
  occurredAt: z.iso.datetime({ offset: true }).describe('When the fact happened or the command was issued (ISO 8601).'),
  correlationId: z.string().min(1).describe('Shared by every message of one business flow (one order).'),
  causationId: z.string().min(1).describe('The id of the message or request that caused this one.'),
  payload: z.record(z.string(), z.unknown()),
});

export const TRACEPARENT_HEADER = 'traceparent';
/**
 * The envelope's `type`, repeated in the headers so a consumer can pass over
 * the types it does not handle without parsing the body. The body stays the
 * authority: readEnvelope reads the type from there.
 */
export const TYPE_HEADER = 'type';
export const TRACESTATE_HEADER = 'tracestate';
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

export interface Envelope<Type extends string = string, Payload = unknown> {
  readonly id: string;
  readonly type: Type;
  readonly version: number;
  readonly key: string;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly payload: Payload;
}

/** The envelope of one definition; distributes over a union, so `switch (envelope.type)` narrows the payload. */
export type EnvelopeOf<D extends AnyMessageDefinition> = D extends AnyMessageDefinition
  ? Envelope<D['type'], PayloadOf<D>>
  : never;

/** What `readEnvelope` returns: always the current version of the type, plus the trace context from the headers. */
export type ReceivedEnvelope<D extends AnyMessageDefinition = CurrentMessageDefinition> = EnvelopeOf<D> & {
  readonly trace?: TraceContext;
  /** The version the message was published with, when an upcaster brought it up to the current one. */
  readonly upcastedFrom?: number;
};

export interface EnvelopeMeta {
  readonly correlationId: string;
  readonly causationId: string;
  /** Given when the message already has an id (an outbox row), so a re-publish is recognisably the same message. */
  readonly id?: string;
  readonly occurredAt?: Date | string;
  readonly trace?: TraceContext;
}

/** A Kafka message ready for kafkajs `producer.send` (a `Message`). */
export interface OutgoingMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The parts of a Kafka message readEnvelope needs; kafkajs's `KafkaMessage` and `Message` both fit. */
export interface WireMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

export const INVALID_MESSAGE_REASONS = ['not-json', 'invalid-envelope', 'unknown-type', 'invalid-payload'] as const;
export type InvalidMessageReason = (typeof INVALID_MESSAGE_REASONS)[number];

/** A message no retry can fix: it goes to the dead-letter topic at once, with `reason`. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';

  constructor(
    readonly reason: InvalidMessageReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${reason}: ${detail}`, options);
  }
}

/** The metadata of a message caused by `cause`: same flow (correlation), caused by that message. */
export function causedBy(cause: Pick<Envelope, 'id' | 'correlationId'>): EnvelopeMeta {
  return { correlationId: cause.correlationId, causationId: cause.id };
}

/**
 * Builds the Kafka message for one payload. The payload is checked against its
 * schema here, so an invalid message fails in the producer's code, not in a
 * consumer's dead-letter topic.
 */
export function createEnvelope<D extends AnyMessageDefinition>(
  definition: D,
  payload: z.input<D['schema']>,
  meta: EnvelopeMeta,
): OutgoingMessage {
  const parsed = definition.schema.parse(payload) as PayloadOf<D>;
  const occurredAt = meta.occurredAt ?? new Date();
  const envelope: Envelope<D['type'], PayloadOf<D>> = {
    id: meta.id ?? randomUUID(),
    type: definition.type,
    version: definition.version,
    key: definition.key(parsed),
    occurredAt: typeof occurredAt === 'string' ? occurredAt : occurredAt.toISOString(),
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    payload: parsed,
  };
  EnvelopeSchema.parse(envelope);
  const headers: Record<string, string> = { [TYPE_HEADER]: envelope.type };
  if (meta.trace) {
    headers[TRACEPARENT_HEADER] = meta.trace.traceparent;
    if (meta.trace.tracestate) headers[TRACESTATE_HEADER] = meta.trace.tracestate;
  }
  return { key: envelope.key, value: JSON.stringify(envelope), headers };
}

/**
 * Reads a Kafka message: parses the envelope, validates the payload against
 * the schema of its (type, version), and upcasts it to the current version.
 * Throws InvalidMessageError (with its reason) for anything else.
 */
export function readEnvelope(message: WireMessage): ReceivedEnvelope;
export function readEnvelope<D extends AnyMessageDefinition>(
  message: WireMessage,
  registry: MessageRegistry<D>,
): ReceivedEnvelope<D>;
export function readEnvelope(
  message: WireMessage,
  registry: MessageRegistry = contracts,
): ReceivedEnvelope<AnyMessageDefinition> {
  let json: unknown;
  try {
    if (message.value === null) throw new Error('the message has no value');
    json = JSON.parse(typeof message.value === 'string' ? message.value : message.value.toString('utf8'));
  } catch (error) {
    throw new InvalidMessageError('not-json', error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }

  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new InvalidMessageError('invalid-envelope', describeIssues(envelope.error));
  const { type, version, payload } = envelope.data;

  const published = registry.definition(type, version);
  const current = registry.current(type);
  if (!published || !current) throw new InvalidMessageError('unknown-type', `${type} v${version} is not registered`);

  const valid = published.schema.safeParse(payload);
  if (!valid.success) {
    throw new InvalidMessageError('invalid-payload', `${type} v${version}: ${describeIssues(valid.error)}`);
  }
  let upcasted: unknown = valid.data;
  if (version !== current.version) {
    const result = current.schema.safeParse(registry.upcast(type, version, valid.data));
    if (!result.success) {
      throw new InvalidMessageError(
        'invalid-payload',
        `${type} v${version} upcast to v${current.version}: ${describeIssues(result.error)}`,
      );
    }
    upcasted = result.data;
  }

  const trace = traceContext(message.headers);
  return {
    ...envelope.data,
    version: current.version,
    payload: upcasted,
    ...(trace ? { trace } : {}),
    ...(version !== current.version ? { upcastedFrom: version } : {}),
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/** The first value of a header as text (kafkajs hands headers over as Buffers). */
export function headerText(headers: WireMessage['headers'], name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** A malformed traceparent is dropped, not fatal: tracing must never make a message undeliverable. */
function traceContext(headers: WireMessage['headers']): TraceContext | undefined {
  const traceparent = headerText(headers, TRACEPARENT_HEADER);
  if (!traceparent || !TRACEPARENT.test(traceparent)) return undefined;
  const tracestate = headerText(headers, TRACESTATE_HEADER);
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
