import type pg from 'pg';
import {
  type EventStore,
  loadSnapshot,
  lockStreams,
  type OutboxMessage,
  recordInInbox,
  saveSnapshot,
} from '@shop/event-store';
import { stockDecider, type StockState } from './stock.decider';
import { type StockCommand, type StockEvent, StockRefused, type StockRefusal } from './stock.events';
import { applyToProducts, streamOfSku } from './products.projection';

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

export interface ExecuteOptions {
  /** Integration messages for the outcome, written to the outbox in the same transaction. */
  readonly outbox?: (outcome: StockOutcome, products: ReadonlyMap<string, ProductRow>) => readonly OutboxMessage[];
  /** Record this message in the inbox in the same transaction; a duplicate changes nothing. */
  readonly inbox?: { readonly consumer: string; readonly messageId: string };
}

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
 */
export class StockStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    private readonly snapshotEvery = 50,
  ) {}

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
    const streamId = streamOfSku(sku);
    const db = client ?? this.pool;
    const snapshot = await loadSnapshot<StockState>(db, streamId);
    const tail = await this.store.readStream(streamId, (snapshot?.version ?? 0) + 1, client);
    const folded = tail.reduce<StockState>(
      (current, event) => stockDecider.evolve(current, { type: event.type, data: event.data } as StockEvent),
      snapshot ? { ...snapshot.state, committed: {} } : stockDecider.initialState(),
    );
    // A decision about no order (a delivery, a new product) needs none of them.
    const sold =
      orders?.length === 0
        ? []
        : (
            await db.query<{ order_id: string; quantity: number }>({
              name: 'reservations-sold',
              text: `select order_id, quantity from reservations
                where sku = $1 and state = 'committed' and ($2::text[] is null or order_id = any($2::text[]))`,
              values: [sku, orders ?? null],
            })
          ).rows;
    const committed = Object.fromEntries(sold.map((row) => [row.order_id, row.quantity]));
    return { state: { ...folded, committed }, version: tail.at(-1)?.streamVersion ?? snapshot?.version ?? 0 };
  }

  async execute(commands: readonly SkuCommand[], options: ExecuteOptions = {}): Promise<StockOutcome | 'duplicate'> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      if (options.inbox && !(await recordInInbox(client, options.inbox.consumer, options.inbox.messageId))) {
        await client.query('rollback');
        return 'duplicate';
      }
      const outcome = await this.executeIn(client, commands, options, new Set());
      await client.query('commit');
      return outcome;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The same decision in the caller's transaction (its inbox step done by the
   * caller). `locked` holds the SKUs whose locks the transaction already has
   * (lockStreams); the others are locked here, in sorted order, and added.
   */
  async executeIn(
    client: pg.PoolClient,
    commands: readonly SkuCommand[],
    options: Pick<ExecuteOptions, 'outbox' | 'inbox'>,
    locked: Set<string>,
  ): Promise<StockOutcome> {
    const toLock = [...new Set(commands.map((command) => command.sku))].filter((sku) => !locked.has(sku));
    await lockStreams(client, toLock.map(streamOfSku));
    for (const sku of toLock) locked.add(sku);
    const { outcome, versions, states } = await this.decide(commands, client);
    if (outcome.ok) {
      const bySku = new Map<string, StockEvent[]>();
      for (const { sku, event } of outcome.events) bySku.set(sku, [...(bySku.get(sku) ?? []), event]);
      await this.store.appendToStreams(
        [...bySku].map(([sku, events]) => {
          const version = versions.get(sku) ?? 0;
          // Events caused by a message name it, so an auditor can tell a message applied twice (invariant 4).
          const metadata = options.inbox ? { causationId: options.inbox.messageId } : undefined;
          return {
            streamId: streamOfSku(sku),
            expected: version === 0 ? ('no_stream' as const) : version,
            events: metadata ? events.map((event) => ({ ...event, metadata })) : events,
          };
        }),
        { client },
      );
      for (const { sku, event } of outcome.events) await applyToProducts(client, sku, event);
      // A snapshot every `snapshotEvery` events keeps a busy SKU's load short (state = snapshot + tail).
      for (const [sku, events] of bySku) {
        const before = versions.get(sku) ?? 0;
        const after = before + events.length;
        const state = states.get(sku);
        if (state && Math.floor(after / this.snapshotEvery) > Math.floor(before / this.snapshotEvery)) {
          await saveSnapshot(client, streamOfSku(sku), after, { ...state, committed: {} });
        }
      }
    }
    if (options.outbox) {
      const products = await this.products(client, [...new Set(commands.map((command) => command.sku))]);
      await this.store.writeOutbox(client, options.outbox(outcome, products));
    }
    return outcome;
  }

  private async products(client: pg.PoolClient, skus: readonly string[]): Promise<Map<string, ProductRow>> {
    const result = await client.query<ProductRow>({
      name: 'products-read',
      text: `select sku, name, price_cents as "priceCents", currency, available from products where sku = any($1)`,
      values: [skus],
    });
    return new Map(result.rows.map((row) => [row.sku, row]));
  }

  /** Decides every command on state read inside the locks; several commands on one SKU see each other's events. */
  private async decide(
    commands: readonly SkuCommand[],
    client: pg.PoolClient,
  ): Promise<{ outcome: StockOutcome; versions: Map<string, number>; states: Map<string, StockState> }> {
    const states = new Map<string, StockState>();
    const versions = new Map<string, number>();
    const events: Array<{ sku: string; event: StockEvent }> = [];
    const refusals = new Map<StockRefusal, string[]>();
    const orders = [...new Set(commands.flatMap(({ command }) => ('orderId' in command ? [command.orderId] : [])))];
    for (const { sku, command } of commands) {
      if (!states.has(sku)) {
        const loaded = await this.load(sku, client, orders);
        states.set(sku, loaded.state);
        versions.set(sku, loaded.version);
      }
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
    if (refusals.size === 0) return { outcome: { ok: true, events }, versions, states };
    // An unknown product outranks a shortage: such an order can never be fulfilled.
    const [first] = refusals.keys();
    const reason: StockRefusal = refusals.has('UNKNOWN_PRODUCT') ? 'UNKNOWN_PRODUCT' : (first ?? 'OUT_OF_STOCK');
    return { outcome: { ok: false, reason, skus: refusals.get(reason) ?? [] }, versions, states };
  }
}
