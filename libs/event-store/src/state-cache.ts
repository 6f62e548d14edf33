import { BoundedMap } from './bounded-map';
import { ConcurrencyError } from './types';

/** A stream's state as its last append in this process left it. */
export interface CachedState<State> {
  readonly state: State;
  /** The stream's version after that append. */
  readonly version: number;
  /** The id of the event at `version`: the append that trusts this entry checks it (see EventStore). */
  readonly lastEventId: string;
}

/**
 * The state of recently written streams, kept by the writer that holds their
 * locks, so a command on a hot stream (a popular SKU, an order in its saga)
 * need not read and replay it before deciding.
 *
 * An entry is a claim, never trusted alone. The transaction that wrote it
 * may still roll back, and another process may write the stream. So a writer
 * that decides on a cached state appends with `lastEventId`: the append
 * checks, in the same statement, that the event at the expected version is
 * the one the cache names, and fails with ConcurrencyError otherwise (the
 * writer then drops the entry and decides again on what the database holds).
 * A decision on cached state that appends nothing (a refusal, a duplicate
 * command) checks nothing, so the writer takes it again on fresh state.
 *
 * Bounded: the least recently used entry goes first. A capacity of 0 keeps
 * nothing (every command reads its stream). The default, 2,000 streams,
 * holds every saga in flight at several hundred orders per second: the
 * streams a saga writes are written within seconds, then rarely again, and
 * a miss costs a read, never a wrong decision.
 */
export class StateCache<State> {
  private readonly entries: BoundedMap<string, CachedState<State>>;

  constructor(capacity = 2_000) {
    this.entries = new BoundedMap(capacity, { refreshOnGet: true });
  }

  get(streamId: string): CachedState<State> | undefined {
    return this.entries.get(streamId);
  }

  set(streamId: string, entry: CachedState<State>): void {
    this.entries.set(streamId, entry);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * A state a writer did not read from its stream: a StateCache entry, or the
 * empty state of a stream it expects to start (version 0, no event).
 */
export interface AssumedState<State> {
  readonly state: State;
  readonly version: number;
  /** The id of the event at `version`, for the append to check. */
  readonly lastEventId?: string;
}

/** What a decision on an assumed state returns when nothing checked it (it appended nothing, or refused). */
export const UNCHECKED: unique symbol = Symbol('unchecked');

/**
 * The rule for deciding on a state that was not read (ADR 0008), in one
 * place: `decide` runs on `assumed` first, when there is one. If it returns
 * UNCHECKED, or its append fails the stream's check (a ConcurrencyError with
 * the version it found: nothing was inserted and the transaction is still
 * usable), it runs again on `stored()`, the stream as stored, in the same
 * transaction. On the stored state it must not return UNCHECKED.
 */
export async function decideOnAssumedState<State, Result>(
  assumed: AssumedState<State> | undefined,
  stored: () => Promise<AssumedState<State>>,
  decide: (loaded: AssumedState<State>, isAssumed: boolean) => Promise<Result | typeof UNCHECKED>,
): Promise<Result> {
  if (assumed) {
    try {
      const result = await decide(assumed, true);
      if (result !== UNCHECKED) return result;
    } catch (error) {
      // A unique violation (a concurrent insert) aborts the transaction: that one is not retried here.
      if (!(error instanceof ConcurrencyError && error.actual !== undefined)) throw error;
    }
  }
  const result = await decide(await stored(), false);
  if (result === UNCHECKED) throw new Error('a decision on the stored state returned UNCHECKED');
  return result;
}
