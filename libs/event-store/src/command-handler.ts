import type pg from 'pg';
import type { Decider, DomainEvent } from './decider';
import type { EventStore } from './event-store';
import { loadSnapshot, saveSnapshot } from './snapshots';
import { ConcurrencyError, type OutboxMessage, type RecordedEvent } from './types';

export interface CommandOptions<State, Event extends DomainEvent> {
  /** How often to retry against fresh state after a ConcurrencyError (default 3). */
  readonly maxRetries?: number;
  /** Take a snapshot each time the stream's version crosses a multiple of this (off when unset). */
  readonly snapshotEvery?: number;
  /** Outbox messages for the new events, written in the same transaction. */
  readonly outbox?: (events: readonly Event[], state: State, nextVersion: number) => readonly OutboxMessage[];
  /** Metadata stored with every new event (correlation and causation ids). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface CommandResult<State, Event> {
  readonly state: State;
  readonly events: readonly Event[];
  readonly version: number;
}

/** An aggregate's state from its snapshot (when there is one) plus the events after it. */
export async function loadAggregate<State, Command, Event extends DomainEvent>(
  store: EventStore,
  pool: pg.Pool,
  decider: Decider<State, Command, Event>,
  streamId: string,
): Promise<{ state: State; version: number }> {
  const snapshot = await loadSnapshot<State>(pool, streamId);
  const tail = await store.readStream(streamId, (snapshot?.version ?? 0) + 1);
  const state = tail.reduce<State>(
    (current, event) => decider.evolve(current, toDomainEvent<Event>(event)),
    snapshot?.state ?? decider.initialState(),
  );
  return { state, version: tail.at(-1)?.streamVersion ?? snapshot?.version ?? 0 };
}

/**
 * Load → decide → append, retried against fresh state a bounded number of
 * times when another writer got there first. The decider stays pure; this is
 * the only place that knows about versions, snapshots and the outbox.
 */
export async function handleCommand<State, Command, Event extends DomainEvent>(
  store: EventStore,
  pool: pg.Pool,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  options: CommandOptions<State, Event> = {},
): Promise<CommandResult<State, Event>> {
  const maxRetries = options.maxRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const { state, version } = await loadAggregate(store, pool, decider, streamId);
    const events = decider.decide(command, state);
    if (events.length === 0) return { state, events, version };
    const next = events.reduce(decider.evolve, state);
    const nextVersion = version + events.length;
    const client = await pool.connect();
    try {
      await client.query('begin');
      await store.appendToStream(
        streamId,
        version === 0 ? 'no_stream' : version,
        events.map((event) => ({
          type: event.type,
          data: event.data,
          ...(options.metadata ? { metadata: options.metadata } : {}),
        })),
        { client, outbox: options.outbox?.(events, next, nextVersion) ?? [] },
      );
      const every = options.snapshotEvery;
      if (every && Math.floor(nextVersion / every) > Math.floor(version / every)) {
        await saveSnapshot(client, streamId, nextVersion, next);
      }
      await client.query('commit');
      return { state: next, events, version: nextVersion };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      if (!(error instanceof ConcurrencyError) || attempt >= maxRetries) throw error;
    } finally {
      client.release();
    }
  }
}

export function toDomainEvent<Event extends DomainEvent>(event: RecordedEvent): Event {
  return { type: event.type, data: event.data } as Event;
}
