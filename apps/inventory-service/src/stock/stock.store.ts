import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  type AppendCondition,
  BoundedMap,
  type CachedState,
  ConcurrencyError,
  type EventStore,
  loadSnapshot,
  lockStreams,
  lockStreamsAndRecord,
  type OutboxMessage,
  saveSnapshot,
  StateCache,
} from '@shop/event-store';
import { stockDecider, type StockState } from './stock.decider';
import { type StockCommand, type StockEvent, StockRefused, type StockRefusal } from './stock.events';
import { KeyedMutex } from './keyed-mutex';
import { foldProductsChange, productsWrites, streamOfSku } from './products.projection';

export interface SkuCommand {
  readonly sku: string;
  readonly command: StockCommand;
}

export type StockOutcome =
  | { readonly ok: true; readonly events: ReadonlyArray<{ sku: string; event: StockEvent }> }
  | { readonly ok: false; readonly reason: StockRefusal; readonly skus: readonly string[] };

/** A product as the read model holds it after a change: what the catalog facts publish. */
export interface ProductRow {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly available: number;
}

/**
 * What one transaction knows of the SKUs it decides on: the locks it holds
 * (lockStreams) and the cache entries its appends wrote. Entries go to the
 * cache at once, before the commit: the next writer of the SKU in this
 * process takes the lock the moment the commit lands, and must find them.
 * If the transaction rolls back, StockStore.rolledBack takes them out again,
 * so the messages of a failed batch, handled again one by one, do not fail
 * their appends on states that never committed.
 */
export interface StockTransaction {
  readonly locked: Set<string>;
  readonly staged: Map<string, CachedState<StockState>>;
  /** The entry each stream had before this transaction's first append to it (what a rollback puts back). */
  readonly replaced: Map<string, CachedState<StockState> | undefined>;
}

export interface ExecuteOptions {
  /** Integration messages for the outcome, written to the outbox in the same transaction. */
  readonly outbox?: (outcome: StockOutcome, products: ReadonlyMap<string, ProductRow>) => readonly OutboxMessage[];
  /** Record this message in the inbox in the same transaction; a duplicate changes nothing. */
  readonly inbox?: { readonly consumer: string; readonly messageId: string };
}

/** How many orders' SKUs heldFromCache remembers (an order leaves it when its stock is committed or released). */
const HOLDING_LIMIT = 10_000;

/**
 * Runs commands on several SKUs as one decision: every SKU accepts, or none
 * changes (an order's reservation is all lines or none). The events of all
 * SKUs, their outbox messages and the products read model are written in one
 * transaction.
 *
 * A popular SKU is written by many orders at once. Instead of letting them
 * race and retry (optimistic concurrency alone livelocks under that load),
 * writers take a transaction-scoped advisory lock per SKU, in sorted order so
 * they cannot deadlock, and decide on state read inside the lock. The
 * expected-version check of the event store stays as the safety net.
 *
 * A busy SKU is written by every order that holds it; the state each
 * committed append left (without `committed`) is kept in a StateCache, so the
 * next decision reads neither snapshot nor tail. Appends on a cached state
 * check the event at the expected version (another process may have written
 * since); a decision on cached state that appends nothing for a SKU (a
 * refusal, a duplicate command) is taken again on the streams.
 */
export class StockStore {
  private readonly cache: StateCache<StockState>;
  /** One decision at a time per SKU on the at-once path, so each decides on the state the one before left. */
  private readonly deciding = new KeyedMutex();
  /**
   * The SKUs each order reserved through this process and still holds
   * reserved: where heldFromCache looks, so that a command naming only the
   * order does not read the reservations table to find its SKUs. A hint
   * only: what it names is taken from the cached states, whose versions the
   * statement checks, and the statement requires the order to hold nothing
   * elsewhere.
   */
  private readonly holding = new BoundedMap<string, Set<string>>(HOLDING_LIMIT);

  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    private readonly snapshotEvery = 50,
    options: { readonly cacheSize?: number } = {},
  ) {
    this.cache = new StateCache(options.cacheSize);
  }

  /**
   * A SKU's state: snapshot + tail for its counts and open reservations.
   * `committed` (units sold per order, needed to give them back on a
   * cancellation) grows with every order the SKU ever sold, so it is neither
   * snapshotted nor replayed: it comes from the reservations table, which is
   * written in the same transactions as the events. Only `orders`' entries
   * are read when given (a decision needs no others).
   */
  async load(
    sku: string,
    client?: pg.PoolClient,
    orders?: readonly string[],
  ): Promise<{ state: StockState; version: number }> {
    const { state, version } = await this.fold(sku, client);
    const committed = (await this.sold(client ?? this.pool, [sku], orders)).get(sku) ?? {};
    return { state: { ...state, committed }, version };
  }

  /** Snapshot + tail: the SKU's state without `committed`, its version and the id of the event there. */
  private async fold(
    sku: string,
    client?: pg.PoolClient,
  ): Promise<{ state: StockState; version: number; lastEventId?: string }> {
    const streamId = streamOfSku(sku);
    const snapshot = await loadSnapshot<StockState>(client ?? this.pool, streamId);
    const tail = await this.store.readStream(streamId, (snapshot?.version ?? 0) + 1, client);
    const state = tail.reduce<StockState>(
      (current, event) => stockDecider.evolve(current, { type: event.type, data: event.data } as StockEvent),
      snapshot ? { ...snapshot.state, committed: {} } : stockDecider.initialState(),
    );
    const last = tail.at(-1);
    if (last) return { state, version: last.streamVersion, lastEventId: last.id };
    return { state, version: snapshot?.version ?? 0 };
  }

  /**
   * Units sold per order (committed, not returned) of these SKUs, from the
   * reservations table, for `orders` only when given (a decision needs no
   * others), in one query. A decision about no order (a delivery, a new
   * product) needs none of them.
   */
  private async sold(
    db: pg.Pool | pg.PoolClient,
    skus: readonly string[],
    orders: readonly string[] | undefined,
  ): Promise<Map<string, Record<string, number>>> {
    const bySku = new Map<string, Record<string, number>>();
    if (orders?.length === 0 || skus.length === 0) return bySku;
    const { rows } = await db.query<{ sku: string; order_id: string; quantity: number }>({
      name: 'reservations-sold',
      text: `select sku, order_id, quantity from reservations
        where sku = any($1::text[]) and state = 'committed' and ($2::text[] is null or order_id = any($2::text[]))`,
      values: [skus, orders ?? null],
    });
    for (const row of rows) bySku.set(row.sku, { ...bySku.get(row.sku), [row.order_id]: row.quantity });
    return bySku;
  }

  async execute(commands: readonly SkuCommand[], options: ExecuteOptions = {}): Promise<StockOutcome | 'duplicate'> {
    const transaction = this.transaction();
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      if (options.inbox) {
        // The SKUs' locks and the message's inbox row in one statement (locks first, sorted).
        const skus = [...new Set(commands.map((command) => command.sku))];
        if (
          !(await lockStreamsAndRecord(client, skus.map(streamOfSku), options.inbox.consumer, options.inbox.messageId))
        ) {
          await client.query('rollback');
          return 'duplicate';
        }
        for (const sku of skus) transaction.locked.add(sku);
      }
      const outcome = await this.executeIn(client, commands, options, transaction);
      await client.query('commit');
      return outcome;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      this.rolledBack(transaction);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The decision on the states this process's own last appends left (the
   * cache), written with its claim (the message's inbox row) in one
   * statement: the events of every SKU, the replies, the products rows and
   * the reservations (EventStore.appendOnceToStreams, ADR 0009). No
   * transaction, no read of the streams. Only for an order with no units
   * sold: the cache does not hold those, and the statement's check guards
   * only the cached states (the caller reads the reservations table and sends
   * a command about sold units to the locked path). Undefined when the cache
   * cannot settle it: a SKU not held, a refusal, a command that appends
   * nothing (those are decided again on the streams), a lock held elsewhere,
   * or a failed check (a state gone stale, whose entries are dropped); the
   * caller then takes the locked path.
   */
  async executeAtOnce(
    commands: readonly SkuCommand[],
    options: ExecuteOptions & { readonly requires?: AppendCondition },
  ): Promise<StockOutcome | 'duplicate' | undefined> {
    const skus = [...new Set(commands.map(({ sku }) => sku))];
    const streams = skus.map(streamOfSku);
    return this.deciding.run(streams, async () => {
      const entries = new Map<string, CachedState<StockState>>();
      for (const sku of skus) {
        const entry = this.cache.get(streamOfSku(sku));
        if (!entry) return undefined;
        entries.set(sku, entry);
      }
      const states = new Map([...entries].map(([sku, entry]) => [sku, { ...entry.state, committed: {} }]));
      const outcome = decideCommands(commands, states);
      if (!outcome.ok || skus.some((sku) => !outcome.events.some((event) => event.sku === sku))) return undefined;
      const versions = new Map([...entries].map(([sku, entry]) => [sku, entry.version]));
      const appends = appendsOf(outcome, versions, (sku) => entries.get(sku)?.lastEventId, options);
      let result: Awaited<ReturnType<EventStore['appendOnceToStreams']>>;
      try {
        result = await this.store.appendOnceToStreams(options.inbox, appends, {
          outbox: options.outbox?.(outcome, productRows(commands, states)) ?? [],
          alongside: productsWrites(foldProductsChange(outcome.events)),
          ...(options.requires ? { requires: options.requires } : {}),
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        // A lock held elsewhere says nothing of the states: the locked path waits for it and decides.
        if (!error.locked) for (const streamId of streams) this.cache.delete(streamId);
        return undefined;
      }
      if (result === 'duplicate') return 'duplicate';
      for (const { sku, streamId, events } of appends) {
        const state = states.get(sku);
        const lastEventId = events.at(-1)?.id;
        const version = (versions.get(sku) ?? 0) + events.length;
        if (state && lastEventId)
          this.cache.set(streamId, { state: { ...state, committed: {} }, version, lastEventId });
      }
      this.noteHolding(outcome.events);
      await this.snapshotsDue(this.pool, appends, versions, states);
      return outcome;
    });
  }

  /**
   * What the order holds reserved, by SKU (sorted), as this process's cached
   * states have it, for a command that names only the order (commit,
   * release): undefined when this process did not reserve the order's stock
   * or no longer holds every such SKU's state (the caller then reads the
   * reservations table). Decide on it only in a statement that checks the
   * states' versions and requires the order to hold nothing on other SKUs
   * (the reservation handler's heldOnlyOn).
   */
  heldFromCache(orderId: string): Array<{ sku: string; quantity: number }> | undefined {
    const skus = this.holding.get(orderId);
    if (!skus) return undefined;
    const held: Array<{ sku: string; quantity: number }> = [];
    for (const sku of [...skus].sort()) {
      const quantity = this.cache.get(streamOfSku(sku))?.state.reserved[orderId];
      if (quantity === undefined) return undefined;
      held.push({ sku, quantity });
    }
    return held;
  }

  /** Keeps `holding` as the appended events leave the orders' reservations. */
  private noteHolding(events: ReadonlyArray<{ sku: string; event: StockEvent }>): void {
    for (const { sku, event } of events) {
      if (event.type === 'StockReserved') {
        const { orderId } = event.data;
        const skus = this.holding.get(orderId);
        // Past HOLDING_LIMIT the order noted longest ago goes first: one that never came back.
        if (skus) skus.add(sku);
        else this.holding.set(orderId, new Set([sku]));
      } else if (event.type === 'ReservationCommitted' || event.type === 'ReservationReleased') {
        const skus = this.holding.get(event.data.orderId);
        skus?.delete(sku);
        if (skus?.size === 0) this.holding.delete(event.data.orderId);
      }
    }
  }

  /** A transaction's view for executeIn; `locked`: the SKUs whose locks it already holds. */
  transaction(locked: Iterable<string> = []): StockTransaction {
    return { locked: new Set(locked), staged: new Map(), replaced: new Map() };
  }

  /** After the transaction rolled back: the cache gets back what it held before (unless a later append replaced it). */
  rolledBack(transaction: StockTransaction): void {
    for (const [streamId, entry] of transaction.staged) {
      if (this.cache.get(streamId) !== entry) continue;
      const previous = transaction.replaced.get(streamId);
      if (previous) this.cache.set(streamId, previous);
      else this.cache.delete(streamId);
    }
  }

  /**
   * The same decision in the caller's transaction (its inbox step done by the
   * caller, and `rolledBack(transaction)` if it rolls back). The SKUs not in
   * `transaction.locked` are locked here, in sorted order, and added.
   */
  async executeIn(
    client: pg.PoolClient,
    commands: readonly SkuCommand[],
    options: Pick<ExecuteOptions, 'outbox' | 'inbox'>,
    transaction: StockTransaction,
  ): Promise<StockOutcome> {
    const { locked, staged } = transaction;
    const toLock = [...new Set(commands.map((command) => command.sku))].filter((sku) => !locked.has(sku));
    await lockStreams(client, toLock.map(streamOfSku));
    for (const sku of toLock) locked.add(sku);
    let decision = await this.decide(commands, client, staged);
    // What cached states decide without appending (a refusal, a duplicate) is decided again on the streams.
    if (decision.cached.size > 0) {
      const appending = new Set(decision.outcome.ok ? decision.outcome.events.map(({ sku }) => sku) : []);
      if ([...decision.cached.keys()].some((sku) => !appending.has(sku))) {
        decision = await this.decide(commands, client, undefined);
      }
    }
    const { outcome, versions, states, cached } = decision;
    // The replies and catalog facts, from the states the decision leaves (the products rows are the same
    // function of the same events): they go with the last append's statement, or alone after a refusal.
    const outbox = options.outbox?.(outcome, productRows(commands, states)) ?? [];
    if (!outcome.ok) await this.store.writeOutbox(client, outbox);
    if (outcome.ok) {
      const appends = appendsOf(outcome, versions, (sku) => cached.get(sku), options);
      try {
        // The products read model and the reservations in the last append's statement.
        await this.store.appendToStreams(appends, {
          client,
          outbox,
          alongside: productsWrites(foldProductsChange(outcome.events)),
        });
      } catch (error) {
        // The caller's transaction rolls back; the message comes again and finds the streams as stored.
        if (error instanceof ConcurrencyError) {
          for (const { streamId } of appends) {
            this.cache.delete(streamId);
            staged.delete(streamId);
          }
        }
        throw error;
      }
      for (const { sku, streamId, events } of appends) {
        const state = states.get(sku);
        const lastEventId = events.at(-1)?.id;
        if (state && lastEventId) {
          const version = (versions.get(sku) ?? 0) + events.length;
          const entry = { state: { ...state, committed: {} }, version, lastEventId };
          if (!transaction.replaced.has(streamId)) transaction.replaced.set(streamId, this.cache.get(streamId));
          staged.set(streamId, entry);
          this.cache.set(streamId, entry);
        }
      }
      // A hint, so noted before the commit too: a rollback leaves at worst a hint the statement refuses.
      this.noteHolding(outcome.events);
      await this.snapshotsDue(client, appends, versions, states);
    }
    return outcome;
  }

  /** A snapshot every `snapshotEvery` events keeps a busy SKU's load short (state = snapshot + tail). */
  private async snapshotsDue(
    db: pg.Pool | pg.PoolClient,
    appends: ReadonlyArray<{ sku: string; streamId: string; events: readonly unknown[] }>,
    versions: ReadonlyMap<string, number>,
    states: ReadonlyMap<string, StockState>,
  ): Promise<void> {
    for (const { sku, streamId, events } of appends) {
      const before = versions.get(sku) ?? 0;
      const after = before + events.length;
      const state = states.get(sku);
      if (state && Math.floor(after / this.snapshotEvery) > Math.floor(before / this.snapshotEvery)) {
        await saveSnapshot(db, streamId, after, { ...state, committed: {} });
      }
    }
  }

  /**
   * Decides every command on state read inside the locks, or, with `staged`,
   * on the state this transaction's own earlier appends left or the cache's
   * (a claim; `cached` names the event each such state ends with); several
   * commands on one SKU see each other's events.
   */
  private async decide(
    commands: readonly SkuCommand[],
    client: pg.PoolClient,
    staged: ReadonlyMap<string, CachedState<StockState>> | undefined,
  ): Promise<{
    outcome: StockOutcome;
    versions: Map<string, number>;
    states: Map<string, StockState>;
    cached: Map<string, string>;
  }> {
    const states = new Map<string, StockState>();
    const versions = new Map<string, number>();
    const cached = new Map<string, string>();
    const orders = [...new Set(commands.flatMap(({ command }) => ('orderId' in command ? [command.orderId] : [])))];
    const skus = [...new Set(commands.map(({ sku }) => sku))];
    const sold = await this.sold(client, skus, orders);
    for (const sku of skus) {
      const streamId = streamOfSku(sku);
      const hit = staged ? (staged.get(streamId) ?? this.cache.get(streamId)) : undefined;
      const { state, version, lastEventId } = hit ?? (await this.fold(sku, client));
      if (hit && lastEventId !== undefined) cached.set(sku, lastEventId);
      states.set(sku, { ...state, committed: sold.get(sku) ?? {} });
      versions.set(sku, version);
    }
    return { outcome: decideCommands(commands, states), versions, states, cached };
  }
}

/**
 * Every command in order on `states` (each SKU's state before them), which
 * it leaves as the commands leave them; several commands on one SKU see each
 * other's events. All accepted, or the refusal that outranks the others.
 */
function decideCommands(commands: readonly SkuCommand[], states: Map<string, StockState>): StockOutcome {
  const events: Array<{ sku: string; event: StockEvent }> = [];
  const refusals = new Map<StockRefusal, string[]>();
  for (const { sku, command } of commands) {
    const state = states.get(sku) ?? stockDecider.initialState();
    try {
      const decided = stockDecider.decide(command, state);
      states.set(sku, decided.reduce(stockDecider.evolve, state));
      for (const event of decided) events.push({ sku, event });
    } catch (error) {
      if (!(error instanceof StockRefused)) throw error;
      refusals.set(error.reason, [...(refusals.get(error.reason) ?? []), sku]);
    }
  }
  if (refusals.size === 0) return { ok: true, events };
  // An unknown product outranks a shortage: such an order can never be fulfilled.
  const [first] = refusals.keys();
  const reason: StockRefusal = refusals.has('UNKNOWN_PRODUCT') ? 'UNKNOWN_PRODUCT' : (first ?? 'OUT_OF_STOCK');
  return { ok: false, reason, skus: refusals.get(reason) ?? [] };
}

/**
 * The appends of an accepted outcome, one per SKU, each on the version the
 * decision saw (and the event there, when the state came from the cache).
 * Events caused by a message name it, so an auditor can tell a message
 * applied twice (invariant 4).
 */
function appendsOf(
  outcome: Extract<StockOutcome, { ok: true }>,
  versions: ReadonlyMap<string, number>,
  lastEventIdOf: (sku: string) => string | undefined,
  options: Pick<ExecuteOptions, 'inbox'>,
) {
  const bySku = new Map<string, StockEvent[]>();
  for (const { sku, event } of outcome.events) bySku.set(sku, [...(bySku.get(sku) ?? []), event]);
  const metadata = options.inbox ? { causationId: options.inbox.messageId } : undefined;
  return [...bySku].map(([sku, events]) => {
    const version = versions.get(sku) ?? 0;
    const lastEventId = lastEventIdOf(sku);
    return {
      sku,
      streamId: streamOfSku(sku),
      expected: version === 0 ? ('no_stream' as const) : version,
      events: events.map((event) => ({ ...event, id: randomUUID(), ...(metadata ? { metadata } : {}) })),
      ...(lastEventId === undefined ? {} : { lastEventId }),
    };
  });
}

/** The products rows of the commands' SKUs after a decision: the products read model holds the same. */
function productRows(
  commands: readonly SkuCommand[],
  states: ReadonlyMap<string, StockState>,
): Map<string, ProductRow> {
  const rows = new Map<string, ProductRow>();
  for (const { sku } of commands) {
    const state = states.get(sku);
    if (!state?.exists || rows.has(sku)) continue;
    const { name, priceCents, currency, available } = state;
    rows.set(sku, { sku, name, priceCents, currency, available });
  }
  return rows;
}
