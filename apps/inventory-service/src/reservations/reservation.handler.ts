import type pg from 'pg';
import {
  type ReceivedEnvelope,
  StockCommitted,
  StockLevelChanged,
  StockReleased,
  StockReservationFailed,
  StockReserved,
} from '@shop/contracts';
import { type AppendCondition, handleManyOnce, type OutboxMessage } from '@shop/event-store';
import { type BatchItem, type MessageContext, outboxMessage, PermanentError } from '@shop/messaging';
import { streamOfSku } from '../stock/products.projection';
import type { ProductRow, SkuCommand, StockOutcome, StockStore, StockTransaction } from '../stock/stock.store';

export const INBOX_CONSUMER = 'inventory-commands';

/** The states of a reservation whose units the order still holds: reserved, or sold (committed). */
const HELD: readonly string[] = ['reserved', 'committed'];

/**
 * The saga's commands to inventory (ReserveStock, ReleaseStock, CommitStock),
 * each handled once (inbox), answered through the outbox in the same
 * transaction, with the catalog facts (StockLevelChanged) that order-service
 * projects.
 */
export class ReservationHandler {
  constructor(
    private readonly pool: pg.Pool,
    private readonly stock: StockStore,
    private readonly stackId: string,
  ) {}

  async handle(envelope: ReceivedEnvelope, _context: MessageContext): Promise<void> {
    const atOnce = await this.handleAtOnce(envelope);
    if (atOnce === true) return;
    const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
    // What the order holds may have been read for the one-statement attempt already (outside a transaction, as here).
    const held = atOnce?.held;
    const plan = await this.plan(envelope, (orderId) => (held ? Promise.resolve(held) : this.held(this.pool, orderId)));
    if (!plan) return;
    await this.stock.execute(plan.commands, { inbox, outbox: plan.outbox });
  }

  /**
   * A saga command on SKUs whose states this process holds (its own last
   * appends), decided on them and written with the message's inbox row in
   * one statement (StockStore.executeAtOnce). True when done; else the
   * locked transaction takes it (with what the order holds, when it was read
   * here).
   *
   * The cached states do not hold units sold (committed), so the statement
   * requires what its decision assumed of them. ReserveStock: the order has
   * none (a stray reserve for a confirmed order is decided under the locks).
   * CommitStock and ReleaseStock name only the order: its SKUs come from
   * the states this process reserved them in (StockStore.heldFromCache), and
   * the statement requires that the order holds nothing on any other SKU.
   * An order this process did not reserve is read from the reservations
   * table first, as is one with units sold.
   */
  private async handleAtOnce(
    envelope: ReceivedEnvelope,
  ): Promise<true | { held?: ReadonlyArray<{ sku: string; quantity: number }> } | undefined> {
    if (!isStockCommand(envelope)) return undefined;
    const { orderId } = envelope.payload as { orderId: string };
    if (envelope.type === 'ReserveStock') return this.atOnce(envelope, [], nothingSold(orderId));
    const cached = this.stock.heldFromCache(orderId);
    if (cached) return this.atOnce(envelope, cached, heldOnlyOn(orderId, cached));
    const { rows } = await this.pool.query<{ sku: string; quantity: number; state: string }>({
      name: 'reservations-of-order',
      text: 'select sku, quantity, state from reservations where order_id = $1 order by sku',
      values: [orderId],
    });
    const held = rows.filter((row) => HELD.includes(row.state));
    // Nothing held to commit or release: a repeat or a stray command, for the locked path to tell apart.
    if (held.length === 0) return { held };
    // Units sold to the order (a cancellation gives them back) are not in the cached states: under the locks.
    if (rows.some((row) => row.state === 'committed')) return { held };
    return this.atOnce(envelope, held, heldOnlyOn(orderId, held), true);
  }

  /**
   * The command planned on `held` and written at once if the cached states
   * settle it and `requires` holds; else what the locked path is handed:
   * `held` when it was read from the reservations table (not when it came
   * from the cache, which the locked path does not decide on).
   */
  private async atOnce(
    envelope: ReceivedEnvelope,
    held: ReadonlyArray<{ sku: string; quantity: number }>,
    requires: AppendCondition,
    read = false,
  ): Promise<true | { held?: ReadonlyArray<{ sku: string; quantity: number }> }> {
    const fallback = read ? { held } : {};
    const plan = await this.plan(envelope, () => Promise.resolve(held));
    if (!plan) return fallback;
    const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
    const outcome = await this.stock.executeAtOnce(plan.commands, { inbox, outbox: plan.outbox, requires });
    return outcome === undefined ? fallback : true;
  }

  /**
   * Consecutive commands of one partition, in order. Each that the cached
   * states settle is one statement of its own (handleAtOnce); from the first
   * that is not, the rest go in one transaction: one inbox statement, the
   * locks of every SKU they are known to touch taken at once (sorted, so two
   * batches cannot deadlock), then each command in order, under its own
   * trace, reading what the ones before it wrote. A failure leaves what was
   * committed before it (the inbox makes those no-ops when the consumer then
   * handles the messages one by one) and rolls the transaction back.
   */
  async handleBatch(items: readonly BatchItem[]): Promise<void> {
    let next = 0;
    for (; next < items.length; next++) {
      const item = items[next] as BatchItem;
      if (!isStockCommand(item.envelope)) continue;
      if ((await item.traced(() => this.handleAtOnce(item.envelope))) !== true) break;
    }
    const rest = items.slice(next);
    if (rest.length === 0) return;
    const transaction = this.stock.transaction();
    try {
      await this.handleBatchIn(
        rest,
        rest.map((item) => item.envelope.id),
        transaction,
      );
    } catch (error) {
      this.stock.rolledBack(transaction);
      throw error;
    }
  }

  private async handleBatchIn(
    items: readonly BatchItem[],
    ids: readonly string[],
    transaction: StockTransaction,
  ): Promise<void> {
    // The SKUs' locks come before the inbox rows (handleManyOnce's lockFirst): a transaction gets its id at its
    // first write, and one that wrote and then waited for a SKU could order its outbox rows (by transaction id,
    // for the relay) before those of the writer it waited for (ADR 0009). An order's reservations change only
    // with its own commands, which this partition handles in order, so reading them first is safe.
    const commands = items.filter((item) => isStockCommand(item.envelope));
    const orders = commands.map((item) => (item.envelope.payload as { orderId: string }).orderId);
    const held = await this.pool.query<{ sku: string }>({
      name: 'reservations-skus-of-orders',
      text: 'select distinct sku from reservations where order_id = any($1)',
      values: [orders],
    });
    const skus = new Set([
      ...held.rows.map((row) => row.sku),
      ...commands
        .flatMap(({ envelope }) => (envelope.type === 'ReserveStock' ? envelope.payload.items : []))
        .map((line) => line.sku),
    ]);
    await handleManyOnce(
      this.pool,
      INBOX_CONSUMER,
      ids,
      async (client, first) => {
        for (const sku of skus) transaction.locked.add(sku);
        for (const { envelope, traced } of commands) {
          if (!first(envelope.id)) continue;
          await traced(async () => {
            const plan = await this.plan(envelope, (orderId) => this.held(client, orderId));
            if (!plan) return;
            const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
            await this.stock.executeIn(client, plan.commands, { inbox, outbox: plan.outbox }, transaction);
          });
        }
      },
      [...skus].map(streamOfSku).sort(),
    );
  }

  /** The stock commands a saga command means, and its replies; `held`: what the order holds (sorted by SKU). */
  private async plan(
    envelope: ReceivedEnvelope,
    held: (orderId: string) => Promise<ReadonlyArray<{ sku: string; quantity: number }>>,
  ): Promise<
    | {
        commands: SkuCommand[];
        outbox: (outcome: StockOutcome, products: ReadonlyMap<string, ProductRow>) => OutboxMessage[];
      }
    | undefined
  > {
    const meta = { correlationId: envelope.correlationId, causationId: envelope.id };
    const facts = (products: ReadonlyMap<string, ProductRow>): OutboxMessage[] =>
      [...products.values()].map((product) => outboxMessage(this.stackId, StockLevelChanged, product, meta));

    switch (envelope.type) {
      case 'ReserveStock': {
        const { orderId, items } = envelope.payload;
        return {
          commands: items.map(({ sku, quantity }) => ({ sku, command: { kind: 'Reserve', orderId, quantity } })),
          outbox: (outcome, products) => [
            outcome.ok
              ? outboxMessage(this.stackId, StockReserved, { orderId, items }, meta)
              : outboxMessage(
                  this.stackId,
                  StockReservationFailed,
                  {
                    orderId,
                    reason: outcome.reason === 'UNKNOWN_PRODUCT' ? 'UNKNOWN_PRODUCT' : 'OUT_OF_STOCK',
                    skus: [...outcome.skus],
                  },
                  meta,
                ),
            ...(outcome.ok ? facts(products) : []),
          ],
        };
      }
      case 'ReleaseStock': {
        const { orderId } = envelope.payload;
        const holds = await held(orderId);
        // Gives back whatever the order holds: a reservation (compensation) or sold units (cancellation).
        return {
          commands: holds.flatMap(({ sku }): SkuCommand[] => [
            { sku, command: { kind: 'Release', orderId } },
            { sku, command: { kind: 'Return', orderId } },
          ]),
          outbox: (_outcome, products) => [
            outboxMessage(
              this.stackId,
              StockReleased,
              { orderId, items: holds.map(({ sku, quantity }) => ({ sku, quantity })) },
              meta,
            ),
            ...facts(products),
          ],
        };
      }
      case 'CommitStock': {
        const { orderId } = envelope.payload;
        const holds = await held(orderId);
        if (holds.length === 0) throw new PermanentError(`CommitStock for order ${orderId}, which holds no stock`);
        return {
          commands: holds.map(({ sku }) => ({ sku, command: { kind: 'Commit', orderId } })),
          outbox: () => [
            outboxMessage(
              this.stackId,
              StockCommitted,
              { orderId, items: holds.map(({ sku, quantity }) => ({ sku, quantity })) },
              meta,
            ),
          ],
        };
      }
      default:
        // Other messages on the topic are not ours to act on.
        return undefined;
    }
  }

  private async held(db: pg.Pool | pg.PoolClient, orderId: string): Promise<Array<{ sku: string; quantity: number }>> {
    const result = await db.query<{ sku: string; quantity: number }>({
      name: 'reservations-held',
      text: 'select sku, quantity from reservations where order_id = $1 and state = any($2) order by sku',
      values: [orderId, HELD],
    });
    return result.rows;
  }
}

/** The order has no units sold (what a reservation decided on cached states assumes). */
function nothingSold(orderId: string): AppendCondition {
  return {
    sql: "not exists (select 1 from reservations where order_id = $1::text and state = 'committed')",
    values: [orderId],
  };
}

/** The order holds nothing (reserved or sold) beyond `held`'s SKUs, which the cached states hold reserved. */
function heldOnlyOn(orderId: string, held: ReadonlyArray<{ sku: string }>): AppendCondition {
  return {
    sql: `not exists (select 1 from reservations
                       where order_id = $1::text and state = any('{reserved,committed}') and sku <> all($2::text[]))`,
    values: [orderId, held.map(({ sku }) => sku)],
  };
}

function isStockCommand(envelope: ReceivedEnvelope): boolean {
  return envelope.type === 'ReserveStock' || envelope.type === 'ReleaseStock' || envelope.type === 'CommitStock';
}
