import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  type AssumedState,
  ConcurrencyError,
  decideOnAssumedState,
  type EventStore,
  type OutboxMessage,
  type RecordedEvent,
  lockStreamAndRecord,
  lockStreams,
  StateCache,
  UNCHECKED,
} from '@shop/event-store';
import { paymentDecider, type PaymentState } from './payment.decider';
import type { PaymentEvent } from './payment.events';

/** The inbox consumer name of the saga's payment commands. */
export const INBOX_CONSUMER = 'payment-commands';

export const streamOfOrder = (orderId: string): string => `payment-${orderId}`;

export interface WriteStep {
  /** The events of this step, decided on the state read inside the transaction (none: the state as it is). */
  readonly decide?: (state: PaymentState) => readonly PaymentEvent[];
  /** Integration messages for the state after the step, written to the outbox in the same transaction. */
  readonly reply?: (state: PaymentState, events: readonly PaymentEvent[]) => readonly OutboxMessage[];
  /** The message this step finishes: recorded in the inbox in the same transaction; a duplicate changes nothing. */
  readonly inbox?: string;
  /** Stored with every event (correlation and causation ids). */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * The step normally starts the stream (a charge's first): decided on an
   * empty state without reading; the append's no-stream check sends any
   * other case to the stream.
   */
  readonly newStream?: boolean;
}

/** A charge's first step: the stream is assumed not to exist yet (the append's no-stream check tells otherwise). */
const NEW_STREAM: AssumedState<PaymentState> = { state: paymentDecider.initialState(), version: 0 };

export type WriteResult =
  | { readonly outcome: 'written'; readonly state: PaymentState; readonly events: readonly PaymentEvent[] }
  | { readonly outcome: 'duplicate' };

/**
 * The payment streams: load, and one write per step of a command (inbox,
 * decide, events, outbox). No transaction is ever held open across a call to
 * the provider: the handlers call it between two steps.
 *
 * A charge writes its stream twice around the provider call; the state the
 * first step leaves is kept (StateCache) for the second, and the first
 * assumes a stream that does not exist yet. On such an assumed state a step
 * is one statement (ADR 0009): the append checks the state (its version and
 * last event, or that there is no stream) and records the inbox row with it.
 * What the assumed state cannot settle (a refusal, no events, a failed check)
 * is taken again in a transaction that takes a transaction-scoped advisory
 * lock on the order's stream first and decides on the stream as stored, so
 * two deliveries of the saga's commands for one order that collide decide
 * one after the other; the expected-version check stays as the safety net.
 */
export class PaymentStore {
  private readonly cache: StateCache<PaymentState>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    options: { readonly cacheSize?: number } = {},
  ) {
    this.cache = new StateCache(options.cacheSize);
  }

  async load(orderId: string, client?: pg.PoolClient): Promise<{ state: PaymentState; version: number }> {
    const { state, version } = await this.read(orderId, client);
    return { state, version };
  }

  private async read(orderId: string, client?: pg.PoolClient): Promise<AssumedState<PaymentState>> {
    const events = await this.store.readStream(streamOfOrder(orderId), 1, client);
    const last = events.at(-1);
    const state = replay(events);
    return last ? { state, version: last.streamVersion, lastEventId: last.id } : { state, version: 0 };
  }

  /** The stream's events as stored (for GET /payments/:orderId). */
  history(orderId: string): Promise<RecordedEvent[]> {
    return this.store.readStream(streamOfOrder(orderId));
  }

  /** True once `messageId` was handled (its effects committed): RefundPayment's check before it settles. */
  async handled(messageId: string): Promise<boolean> {
    const result = await this.pool.query({
      name: 'payment-inbox-seen',
      text: 'select 1 from inbox where consumer = $1 and message_id = $2',
      values: [INBOX_CONSUMER, messageId],
    });
    return result.rowCount === 1;
  }

  async write(orderId: string, step: WriteStep): Promise<WriteResult> {
    const streamId = streamOfOrder(orderId);
    const atOnce = await this.writeAtOnce(streamId, step);
    if (atOnce !== UNCHECKED) return atOnce;
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      // The order's lock, and the inbox row of the message this step finishes, in one statement.
      if (step.inbox === undefined) await lockStreams(client, [streamId]);
      else if (!(await lockStreamAndRecord(client, streamId, INBOX_CONSUMER, step.inbox))) {
        await client.query('rollback');
        return { outcome: 'duplicate' };
      }
      const written = await this.step(client, streamId, orderId, step);
      await client.query('commit');
      return { outcome: 'written', ...written };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * On the assumed state (the cache's, or an empty one for a step that starts
   * the stream) and with no transaction: the events, the reply and the inbox
   * row in one statement (ADR 0009). UNCHECKED, with nothing written, when
   * that state cannot settle the step (a refusal, no events, a failed check).
   */
  private async writeAtOnce(streamId: string, step: WriteStep): Promise<WriteResult | typeof UNCHECKED> {
    const assumed = this.cache.get(streamId) ?? (step.newStream ? NEW_STREAM : undefined);
    if (!assumed || !step.decide) return UNCHECKED;
    let events: readonly PaymentEvent[];
    try {
      events = step.decide(assumed.state);
    } catch {
      return UNCHECKED;
    }
    if (events.length === 0) return UNCHECKED;
    const next = events.reduce(paymentDecider.evolve, assumed.state);
    const recorded = this.recorded(events, step);
    try {
      const result = await this.store.appendOnce(
        step.inbox === undefined ? undefined : { consumer: INBOX_CONSUMER, messageId: step.inbox },
        streamId,
        assumed.version === 0 ? 'no_stream' : assumed.version,
        recorded,
        {
          outbox: step.reply?.(next, events) ?? [],
          ...(assumed.lastEventId === undefined ? {} : { lastEventId: assumed.lastEventId }),
        },
      );
      if (result === 'duplicate') return { outcome: 'duplicate' };
    } catch (error) {
      this.cache.delete(streamId);
      if (error instanceof ConcurrencyError) return UNCHECKED;
      throw error;
    }
    this.remember(streamId, next, assumed.version, recorded);
    return { outcome: 'written', state: next, events };
  }

  private recorded(events: readonly PaymentEvent[], step: WriteStep) {
    return events.map((event) => ({
      id: randomUUID(),
      type: event.type,
      data: event.data,
      ...(step.metadata ? { metadata: step.metadata } : {}),
    }));
  }

  private remember(streamId: string, state: PaymentState, version: number, recorded: ReadonlyArray<{ id: string }>) {
    const last = recorded.at(-1);
    if (last) this.cache.set(streamId, { state, version: version + recorded.length, lastEventId: last.id });
  }

  /** Decide on the assumed state (checked by the append) or, failing that, on the stream; append; write the outbox. */
  private async step(
    client: pg.PoolClient,
    streamId: string,
    orderId: string,
    step: WriteStep,
  ): Promise<{ state: PaymentState; events: readonly PaymentEvent[] }> {
    // Not read from the stream: the state this process's last append left, or, for a step that
    // starts the stream, an empty one. Either is checked by the append (lastEventId, no_stream).
    const assumed = this.cache.get(streamId) ?? (step.newStream ? NEW_STREAM : undefined);
    return decideOnAssumedState(
      assumed,
      () => this.read(orderId, client),
      async ({ state, version, lastEventId }, isAssumed) => {
        let events: readonly PaymentEvent[];
        try {
          events = step.decide?.(state) ?? [];
        } catch (error) {
          // A refusal of an assumed state may be the assumption's mistake.
          if (isAssumed) return UNCHECKED;
          throw error;
        }
        if (isAssumed && events.length === 0) return UNCHECKED;
        const next = events.reduce(paymentDecider.evolve, state);
        const outbox = step.reply?.(next, events) ?? [];
        if (events.length === 0) {
          await this.store.writeOutbox(client, outbox);
          return { state: next, events };
        }
        const recorded = this.recorded(events, step);
        try {
          await this.store.appendToStream(streamId, version === 0 ? 'no_stream' : version, recorded, {
            client,
            outbox,
            ...(isAssumed && lastEventId !== undefined ? { lastEventId } : {}),
          });
        } catch (error) {
          this.cache.delete(streamId);
          throw error;
        }
        this.remember(streamId, next, version, recorded);
        return { state: next, events };
      },
    );
  }
}

export function replay(events: readonly RecordedEvent[]): PaymentState {
  return events.reduce<PaymentState>(
    (state, event) => paymentDecider.evolve(state, { type: event.type, data: event.data } as PaymentEvent),
    paymentDecider.initialState(),
  );
}
