import type pg from 'pg';
import {
  type ReceivedEnvelope,
  StockCommitted,
  StockLevelChanged,
  StockReleased,
  StockReservationFailed,
  StockReserved,
} from '@shop/contracts';
import { handleManyOnce, lockStreams, type OutboxMessage } from '@shop/event-store';
import { type BatchItem, type MessageContext, outboxMessage, PermanentError } from '@shop/messaging';
import { streamOfSku } from '../stock/products.projection';
import type { ProductRow, SkuCommand, StockOutcome, StockStore, StockTransaction } from '../stock/stock.store';

export const INBOX_CONSUMER = 'inventory-commands';

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
    const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
    const plan = await this.plan(envelope, this.pool);
    if (!plan) return;
    await this.stock.execute(plan.commands, { inbox, outbox: plan.outbox });
  }

  /**
   * Consecutive commands of one partition in one transaction: one inbox
   * statement, the locks of every SKU they are known to touch taken at once
   * (sorted, so two batches cannot deadlock), then each command in order,
   * under its own trace, reading what the ones before it wrote. Any failure
   * rolls it all back, and the consumer handles the messages one by one.
   */
  async handleBatch(items: readonly BatchItem[]): Promise<void> {
    const ids = items.map((item) => item.envelope.id);
    const transaction = this.stock.transaction();
    try {
      await this.handleBatchIn(items, ids, transaction);
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
    await handleManyOnce(this.pool, INBOX_CONSUMER, ids, async (client, first) => {
      const work = items.filter((item) => isStockCommand(item.envelope) && first(item.envelope.id));
      const orders = work.map((item) => (item.envelope.payload as { orderId: string }).orderId);
      const held = await client.query<{ sku: string }>({
        name: 'reservations-skus-of-orders',
        text: 'select distinct sku from reservations where order_id = any($1)',
        values: [orders],
      });
      const skus = new Set([
        ...held.rows.map((row) => row.sku),
        ...work
          .flatMap(({ envelope }) => (envelope.type === 'ReserveStock' ? envelope.payload.items : []))
          .map((line) => line.sku),
      ]);
      await lockStreams(client, [...skus].map(streamOfSku));
      for (const sku of skus) transaction.locked.add(sku);
      for (const { envelope, traced } of work) {
        await traced(async () => {
          const plan = await this.plan(envelope, client);
          if (!plan) return;
          const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
          await this.stock.executeIn(client, plan.commands, { inbox, outbox: plan.outbox }, transaction);
        });
      }
    });
  }

  /** The stock commands a saga command means, and its replies; read through `db` (the batch's transaction, or the pool). */
  private async plan(
    envelope: ReceivedEnvelope,
    db: pg.Pool | pg.PoolClient,
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
        const held = await this.held(db, orderId, ['reserved', 'committed']);
        // Gives back whatever the order holds: a reservation (compensation) or sold units (cancellation).
        return {
          commands: held.flatMap(({ sku }): SkuCommand[] => [
            { sku, command: { kind: 'Release', orderId } },
            { sku, command: { kind: 'Return', orderId } },
          ]),
          outbox: (_outcome, products) => [
            outboxMessage(
              this.stackId,
              StockReleased,
              { orderId, items: held.map(({ sku, quantity }) => ({ sku, quantity })) },
              meta,
            ),
            ...facts(products),
          ],
        };
      }
      case 'CommitStock': {
        const { orderId } = envelope.payload;
        const held = await this.held(db, orderId, ['reserved', 'committed']);
        if (held.length === 0) throw new PermanentError(`CommitStock for order ${orderId}, which holds no stock`);
        return {
          commands: held.map(({ sku }) => ({ sku, command: { kind: 'Commit', orderId } })),
          outbox: () => [
            outboxMessage(
              this.stackId,
              StockCommitted,
              { orderId, items: held.map(({ sku, quantity }) => ({ sku, quantity })) },
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

  private async held(
    db: pg.Pool | pg.PoolClient,
    orderId: string,
    states: readonly string[],
  ): Promise<Array<{ sku: string; quantity: number }>> {
    const result = await db.query<{ sku: string; quantity: number }>({
      name: 'reservations-held',
      text: 'select sku, quantity from reservations where order_id = $1 and state = any($2) order by sku',
      values: [orderId, states],
    });
    return result.rows;
  }
}

function isStockCommand(envelope: ReceivedEnvelope): boolean {
  return envelope.type === 'ReserveStock' || envelope.type === 'ReleaseStock' || envelope.type === 'CommitStock';
}
