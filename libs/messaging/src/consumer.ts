import { context as otelContext, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage } from 'kafkajs';
import { headerText, InvalidMessageError, readEnvelope, type ReceivedEnvelope, TYPE_HEADER } from '@shop/contracts';
import type { ReadinessCheck } from '@shop/health';
import type { Logger } from '@shop/observability';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './backoff';
import { deadLetterMessage, deadLetterTopic, decodeHeaders } from './dead-letter';
import { classifyError, type DeadLetterReason } from './errors';
import { consumerLag, messagesDeadLettered, messagesHandled, messagesPassedOver, messagesRetried } from './metrics';
import { createProducer } from './producer';
import { ensureTopics } from './topics';

/** Where a message came from, for the handler's logs and its inbox. */
export interface MessageContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
  /** 1 on the first delivery to this consumer, n on the n-th retry of the same message. */
  readonly attempt: number;
}

/** Resolves once the message's effects are committed (its transaction, inbox row included). */
export type MessageHandler = (envelope: ReceivedEnvelope, context: MessageContext) => Promise<void>;

/** One message of a batch: its envelope, where it came from, and a way to run work under its trace. */
export interface BatchItem {
  readonly envelope: ReceivedEnvelope;
  readonly context: MessageContext;
  /** Runs `work` inside this message's consumer span, so what it writes (outbox rows, logs) continues its trace. */
  traced<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Handles consecutive messages of one partition together, all or nothing
 * (typically in one transaction, with one inbox statement), in their order.
 * When it throws, nothing of it may remain, and the consumer handles the
 * same messages one by one through `handler`, so a poison message is
 * retried or dead-lettered alone and its neighbours are not held back.
 */
export type BatchHandler = (items: readonly BatchItem[]) => Promise<void>;

export interface ConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: MessageHandler;
  readonly logger: Logger;
  /**
   * Optional: several messages at a time (see BatchHandler). A backlog then
   * costs one transaction per batch instead of one per message, so a
   * consumer that falls behind catches up faster. `handler` still handles
   * the messages of a batch that failed, one by one.
   */
  readonly batchHandler?: BatchHandler;
  /**
   * The message types the handlers act on, when they share a topic with
   * types they do not. A message whose `type` header names another type is
   * passed over (its offset committed) without its body being read; one
   * without the header is read and handed over as always. Default: every
   * message is read and handed over.
   */
  readonly handledTypes?: ReadonlySet<string>;
  /** The most messages given to batchHandler at once. Default 50. */
  readonly maxBatchSize?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** How many partitions are handled at the same time; one partition is always handled in order. Default 3. */
  readonly partitionsConsumedConcurrently?: number;
  /** Where a group with no committed offset starts. Default true: a new service misses nothing. */
  readonly fromBeginning?: boolean;
  /** How often messaging_consumer_lag is refreshed. Default 5 s. */
  readonly lagIntervalMs?: number;
  /** How long stop() waits for in-flight handlers before it disconnects anyway. Default 30 s. */
  readonly drainTimeoutMs?: number;
  /** Partitions of each `<topic>.dlq` the consumer provisions on start. Default 1. */
  readonly deadLetterPartitions?: number;
  readonly sessionTimeoutMs?: number;
  /**
   * Handled offsets are committed together this often (default 1 s)
   * instead of one broker round trip per message; 0 commits each message
   * before the next one starts. A crash redelivers at most this window's
   * messages, which the handlers' inbox turns into no-ops; a rebalance and
   * stop() commit what was handled first. At 100 ms the commits were 0.41
   * of the broker's 3.1 requests per order at 60 orders/s, at 1 s 0.05 of
   * 2.7 (interleaved on one held stack, bench/README.md "Slow hours").
   */
  readonly commitIntervalMs?: number;
  /**
   * How long a fetch waits for new data. Default 500 ms (Kafka's own default;
   * kafkajs waits 5 s), which also bounds how late a paused partition is
   * fetched again after its backoff.
   */
  readonly maxWaitTimeMs?: number;
  /**
   * The most bytes one fetch brings of a partition. Default 128 KiB (about
   * 180 of the stack's messages; kafkajs brings 1 MiB). A fetch's messages
   * are decoded and held until their partition is handled, so behind a
   * backlog this is what a consumer holds: at 1 MiB inventory-service held
   * about 4,000 fetched messages and grew to 186-199 MB of RSS at twice the
   * order rate the host could take. A larger message still comes, alone.
   */
  readonly maxBytesPerPartition?: number;
}

export interface MessageConsumer {
  /** Connects, provisions the dead-letter topics, joins the group and starts handling. */
  start(): Promise<void>;
  /** Stops fetching, waits for in-flight handlers (drain), then leaves the group and disconnects. */
  stop(): Promise<void>;
  /** Refreshes messaging_consumer_lag now (it also refreshes every lagIntervalMs). */
  refreshLag(): Promise<void>;
  /**
   * For /health/ready: down until the consumer has joined its group (and
   * again while it is crashed and rejoining). Services listen before they
   * start consuming, so a restart answers /health/live at once even when
   * Kafka holds the join until a killed predecessor's session expires.
   */
  readonly readiness: ReadinessCheck;
}

/**
 * The one way a service consumes Kafka. At-least-once: an offset is
 * committed only after the handler resolved (or the message was
 * dead-lettered), so a crash means redelivery, never loss; handlers must be
 * idempotent (the inbox of @shop/event-store).
 *
 * A failed message is retried without blocking other partitions: its
 * partition is paused and rewound to the message (seek), and resumed after
 * the backoff, so the same message comes again while later messages of that
 * partition wait behind it (order per key is kept).
 */
export function createConsumer(options: ConsumerOptions): MessageConsumer {
  const { kafka, groupId, topics, handler } = options;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const log = options.logger.child({ component: 'messaging-consumer', group: groupId });
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 128 * 1024,
    allowAutoTopicCreation: false,
  });
  const producer = createProducer(kafka);
  const admin = kafka.admin();

  /** The message a partition is retrying and how often it was tried: topic|partition → { offset, attempts }. */
  const failures = new Map<string, { offset: string; attempts: number }>();
  const resumeTimers = new Set<NodeJS.Timeout>();
  const lagSeries = new Set<string>();
  let state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let lagTimer: NodeJS.Timeout | undefined;
  let lagRefresh: Promise<void> | undefined;
  let inFlight = 0;
  let joined = false;
  const drained: (() => void)[] = [];

  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  // Commit what is handled before the group takes partitions away.
  consumer.on(consumer.events.REBALANCING, () => {
    void flushCommits();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    log.error({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed');
  });

  const commitIntervalMs = options.commitIntervalMs ?? 1_000;
  /** The next offset to commit per topic|partition: messages before it are handled. */
  const handled = new Map<string, { topic: string; partition: number; offset: string }>();
  let commitTimer: NodeJS.Timeout | undefined;
  let committing: Promise<void> = Promise.resolve();

  /** Commits what has been handled so far (serialised: one commit request at a time). */
  function flushCommits(): Promise<void> {
    clearTimeout(commitTimer);
    commitTimer = undefined;
    committing = committing.then(async () => {
      const batch = [...handled.values()];
      handled.clear();
      if (batch.length === 0) return;
      try {
        await consumer.commitOffsets(batch);
      } catch (error) {
        // A rebalance took the partitions away: their next owner gets these messages again (the inbox makes that a no-op).
        log.warn({ err: error, offsets: batch }, 'could not commit handled offsets; they will be redelivered');
      }
    });
    return committing;
  }

  async function commit(topic: string, partition: number, offset: string): Promise<void> {
    handled.set(`${topic}|${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    if (commitIntervalMs === 0) return flushCommits();
    commitTimer ??= setTimeout(() => void flushCommits(), commitIntervalMs);
  }

  async function deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: DeadLetterReason,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    await producer.send(deadLetterTopic(topic), [
      deadLetterMessage(message, {
        topic,
        partition,
        offset: message.offset,
        reason,
        error,
        consumerGroup: groupId,
        attempts,
        failedAt: new Date(),
      }),
    ]);
    // Only once the dead letter is safely written does the partition move on.
    await commit(topic, partition, message.offset);
    messagesDeadLettered.inc({ group: groupId, topic, reason });
    log.error({ err: error, topic, partition, offset: message.offset, reason, attempts }, 'message dead-lettered');
  }

  /** Pause the partition and rewind it to the failed message; after the backoff it is fetched again. */
  function retryLater(topic: string, partition: number, offset: string, delayMs: number): void {
    consumer.pause([{ topic, partitions: [partition] }]);
    consumer.seek({ topic, partition, offset });
    const timer = setTimeout(() => {
      resumeTimers.delete(timer);
      if (state === 'running') consumer.resume([{ topic, partitions: [partition] }]);
    }, delayMs);
    resumeTimers.add(timer);
  }

  /** Handles one message: true once it is done with (handled or dead-lettered), false when its partition waits to retry it. */
  async function handle(topic: string, partition: number, message: KafkaMessage): Promise<boolean> {
    if (passesOver(message)) {
      await commit(topic, partition, message.offset);
      messagesPassedOver.inc({ group: groupId, topic });
      return true;
    }
    const position = `${topic}|${partition}`;
    const previous = failures.get(position);
    const attempt = previous?.offset === message.offset ? previous.attempts + 1 : 1;

    let envelope: ReceivedEnvelope;
    try {
      envelope = readEnvelope(message);
    } catch (error) {
      // Not JSON, not an envelope, unknown type, invalid payload: no retry can fix it.
      if (!(error instanceof InvalidMessageError)) throw error;
      await deadLetter(topic, partition, message, error.reason, error, attempt);
      return true;
    }

    const context = contextOf(topic, partition, message, attempt);
    try {
      await withinMessageTrace(envelope, topic, () => handler(envelope, context));
    } catch (error) {
      const verdict = classifyError(error);
      if (verdict.kind === 'permanent' || (verdict.kind === 'retryable' && attempt >= retry.attempts)) {
        failures.delete(position);
        const reason = verdict.kind === 'permanent' ? verdict.reason : 'retries-exhausted';
        await deadLetter(topic, partition, message, reason, error, attempt);
        return true;
      }
      failures.set(position, { offset: message.offset, attempts: attempt });
      const delayMs = backoffDelay(attempt, retry);
      messagesRetried.inc({ group: groupId, topic, kind: verdict.kind });
      log.warn(
        {
          err: error,
          topic,
          partition,
          offset: message.offset,
          type: envelope.type,
          attempt,
          delayMs,
          kind: verdict.kind,
        },
        verdict.kind === 'transient'
          ? 'dependency unavailable; partition paused, retrying'
          : 'handler failed; retrying',
      );
      retryLater(topic, partition, message.offset, delayMs);
      return false;
    }
    failures.delete(position);
    await commit(topic, partition, message.offset);
    messagesHandled.inc({ group: groupId, topic });
    return true;
  }

  /** A message of a type the handlers do not act on, by its header (see handledTypes). */
  function passesOver(message: KafkaMessage): boolean {
    if (!options.handledTypes) return false;
    const type = headerText(message.headers, TYPE_HEADER);
    return type !== undefined && !options.handledTypes.has(type);
  }

  async function eachMessage({ topic, partition, message }: EachMessagePayload): Promise<void> {
    // Stopping: leave the message uncommitted; the group's next member gets it.
    if (state !== 'running') return;
    inFlight++;
    try {
      await handle(topic, partition, message);
    } finally {
      inFlight--;
      if (inFlight === 0) for (const resolve of drained.splice(0)) resolve();
    }
  }

  function contextOf(topic: string, partition: number, message: KafkaMessage, attempt: number): MessageContext {
    return {
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8'),
      headers: decodeHeaders(message.headers),
      timestamp: message.timestamp,
      attempt,
    };
  }

  /**
   * Batch mode: consecutive valid messages of the partition go to
   * batchHandler together (at most maxBatchSize); a message being retried,
   * one that is not a valid envelope, and every message of a batch that
   * failed go through handle() one by one, with its retries and dead
   * letters. Stops at the first message that waits for a retry: the rest of
   * the fetched batch is fetched again after it.
   */
  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const batchHandler = options.batchHandler;
    if (!batchHandler) throw new Error('eachBatch without a batchHandler');
    const maxBatchSize = options.maxBatchSize ?? 50;
    const go = () => state === 'running' && isRunning() && !isStale();
    /** Consecutive messages to settle together; those without an envelope are passed over (handledTypes). */
    let pending: Array<{ message: KafkaMessage; envelope: ReceivedEnvelope | undefined }> = [];
    const oneByOne = async (messages: readonly KafkaMessage[]): Promise<boolean> => {
      for (const message of messages) {
        if (!go()) return false;
        if (!(await handle(topic, partition, message))) return false;
        resolveOffset(message.offset);
      }
      return true;
    };
    const flush = async (): Promise<boolean> => {
      const chunk = pending;
      pending = [];
      const items = chunk.flatMap(({ message, envelope }) => (envelope ? [{ message, envelope }] : []));
      if (items.length <= 1) return oneByOne(chunk.map((item) => item.message));
      try {
        await batchHandler(
          items.map(({ message, envelope }) => ({
            envelope,
            context: contextOf(topic, partition, message, 1),
            traced: <T>(work: () => Promise<T>) => withinMessageTrace(envelope, topic, work),
          })),
        );
      } catch (error) {
        messagesRetried.inc({ group: groupId, topic, kind: 'batch' });
        log.warn(
          { err: error, topic, partition, from: chunk[0]?.message.offset, messages: chunk.length },
          'batch failed; handling its messages one by one',
        );
        return oneByOne(chunk.map((item) => item.message));
      }
      for (const { message } of chunk) resolveOffset(message.offset);
      const last = chunk.at(-1)?.message.offset;
      if (last !== undefined) await commit(topic, partition, last);
      messagesHandled.inc({ group: groupId, topic }, items.length);
      if (chunk.length > items.length) messagesPassedOver.inc({ group: groupId, topic }, chunk.length - items.length);
      await heartbeat();
      return true;
    };
    inFlight++;
    try {
      for (const message of batch.messages) {
        if (!go()) return;
        // A message that failed before is retried alone (its attempt count is the consumer's).
        const retrying = failures.get(`${topic}|${partition}`)?.offset === message.offset;
        if (!retrying && passesOver(message)) {
          pending.push({ message, envelope: undefined });
          if (pending.length >= maxBatchSize && !(await flush())) return;
          continue;
        }
        let envelope: ReceivedEnvelope | undefined;
        try {
          envelope = retrying ? undefined : readEnvelope(message);
        } catch (error) {
          if (!(error instanceof InvalidMessageError)) throw error;
        }
        if (!envelope) {
          if (!(await flush()) || !(await oneByOne([message]))) return;
          continue;
        }
        pending.push({ message, envelope });
        if (pending.length >= maxBatchSize && !(await flush())) return;
      }
      await flush();
    } finally {
      inFlight--;
      if (inFlight === 0) for (const resolve of drained.splice(0)) resolve();
    }
  }

  function drain(timeoutMs: number): Promise<boolean> {
    if (inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      drained.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async function refreshLag(): Promise<void> {
    lagRefresh ??= (async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      for (const topic of topics) {
        const partitions = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
        for (const end of await admin.fetchTopicOffsets(topic)) {
          const offset = partitions.find((entry) => entry.partition === end.partition)?.offset;
          // No commit yet: everything from the log start is still to be consumed.
          const from = offset === undefined || Number(offset) < 0 ? Number(end.low) : Number(offset);
          const labels = { group: groupId, topic, partition: String(end.partition) };
          consumerLag.set(labels, Math.max(0, Number(end.high) - from));
          lagSeries.add(JSON.stringify(labels));
        }
      }
    })().finally(() => {
      lagRefresh = undefined;
    });
    return lagRefresh;
  }

  async function start(): Promise<void> {
    if (state !== 'new') throw new Error(`consumer ${groupId} was already started`);
    state = 'starting';
    await Promise.all([consumer.connect(), producer.connect(), admin.connect()]);
    await ensureTopics(
      admin,
      topics.map((topic) => ({ name: deadLetterTopic(topic), partitions: options.deadLetterPartitions ?? 1 })),
    );
    await consumer.subscribe({ topics: [...topics], fromBeginning: options.fromBeginning ?? true });
    state = 'running';
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
      ...(options.batchHandler ? { eachBatch, eachBatchAutoResolve: false } : { eachMessage }),
    });
    lagTimer = setInterval(() => {
      refreshLag().catch((error: unknown) => log.warn({ err: error }, 'could not refresh consumer lag'));
    }, options.lagIntervalMs ?? 5_000);
    lagTimer.unref();
    log.info({ topics }, 'consumer started');
  }

  async function stop(): Promise<void> {
    await starting?.catch(() => undefined);
    if (state === 'new') {
      state = 'stopped';
      return;
    }
    stopping ??= (async () => {
      state = 'stopping';
      joined = false;
      clearInterval(lagTimer);
      for (const timer of resumeTimers) clearTimeout(timer);
      resumeTimers.clear();
      try {
        // No new fetches; the partitions' current batches end after their in-flight message.
        consumer.pause(topics.map((topic) => ({ topic })));
      } catch {
        // Not running (start failed half-way): nothing to pause.
      }
      if (!(await drain(options.drainTimeoutMs ?? 30_000))) {
        log.warn({ inFlight }, 'handlers still running after the drain timeout; disconnecting anyway');
      }
      await flushCommits();
      await lagRefresh?.catch(() => undefined);
      await consumer.disconnect();
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      for (const labels of lagSeries) consumerLag.remove(JSON.parse(labels) as Record<string, string>);
      state = 'stopped';
      log.info('consumer stopped');
    })();
    return stopping;
  }

  return {
    start: () => (starting ??= start()),
    stop,
    refreshLag,
    readiness: {
      name: 'consumer',
      async check() {
        if (state !== 'running' || !joined) throw new Error(`consumer ${groupId} is ${state}, not yet in its group`);
        return { group: groupId, topics: topics.length };
      },
    },
  };
}

const tracer = trace.getTracer('@shop/messaging');

/**
 * Runs a handler inside a consumer span whose parent is the trace the message
 * carries (its traceparent header), so whatever the handler writes (its
 * outbox rows, its logs) continues the producer's trace. Done here rather
 * than left to the kafkajs instrumentation, whose context does not survive
 * this consumer's own scheduling of retries.
 */
function withinMessageTrace<T>(envelope: ReceivedEnvelope, topic: string, work: () => Promise<T>): Promise<T> {
  const carrier = envelope.trace
    ? {
        traceparent: envelope.trace.traceparent,
        ...(envelope.trace.tracestate ? { tracestate: envelope.trace.tracestate } : {}),
      }
    : {};
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer.startSpan(
    `${topic} process`,
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.message.id': envelope.id } },
    parent,
  );
  return otelContext.with(trace.setSpan(parent, span), async () => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
