import type pg from 'pg';
import {
  type ReceivedEnvelope,
  StockCommitted,
  StockLevelChanged,
  StockReleased,
  StockReservationFailed,
  StockReserved,
} from '@shop/contracts';
import type { OutboxMessage } from '@shop/event-store';
import { type MessageContext, outboxMessage, PermanentError } from '@shop/messaging';
import type { ProductRow, SkuCommand, StockOutcome, StockStore } from '../stock/stock.store';

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
    const meta = { correlationId: envelope.correlationId, causationId: envelope.id };
    const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
    const facts = (products: ReadonlyMap<string, ProductRow>): OutboxMessage[] =>
      [...products.values()].map((product) => outboxMessage(this.stackId, StockLevelChanged, product, meta));

    switch (envelope.type) {
      case 'ReserveStock': {
        const { orderId, items } = envelope.payload;
        const commands: SkuCommand[] = items.map(({ sku, quantity }) => ({
          sku,
          command: { kind: 'Reserve', orderId, quantity },
        }));
        await this.stock.execute(commands, {
          inbox,
          outbox: (outcome: StockOutcome, products) => [
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
        });
        return;
      }
      case 'ReleaseStock': {
        const { orderId } = envelope.payload;
        const held = await this.held(orderId, ['reserved', 'committed']);
        // Gives back whatever the order holds: a reservation (compensation) or sold units (cancellation).
        const commands = held.flatMap(({ sku }): SkuCommand[] => [
          { sku, command: { kind: 'Release', orderId } },
          { sku, command: { kind: 'Return', orderId } },
        ]);
        await this.stock.execute(commands, {
          inbox,
          outbox: (_outcome, products) => [
            outboxMessage(
              this.stackId,
              StockReleased,
              { orderId, items: held.map(({ sku, quantity }) => ({ sku, quantity })) },
              meta,
            ),
            ...facts(products),
          ],
        });
        return;
      }
      case 'CommitStock': {
        const { orderId } = envelope.payload;
        const held = await this.held(orderId, ['reserved', 'committed']);
        if (held.length === 0) throw new PermanentError(`CommitStock for order ${orderId}, which holds no stock`);
        await this.stock.execute(
          held.map(({ sku }) => ({ sku, command: { kind: 'Commit', orderId } })),
          {
            inbox,
            outbox: () => [
              outboxMessage(
                this.stackId,
                StockCommitted,
                { orderId, items: held.map(({ sku, quantity }) => ({ sku, quantity })) },
                meta,
              ),
            ],
          },
        );
        return;
      }
      default:
        // Other messages on the topic are not ours to act on.
        return;
    }
  }

  private async held(orderId: string, states: readonly string[]): Promise<Array<{ sku: string; quantity: number }>> {
    const result = await this.pool.query<{ sku: string; quantity: number }>({
      name: 'reservations-held',
      text: 'select sku, quantity from reservations where order_id = $1 and state = any($2) order by sku',
      values: [orderId, states],
    });
    return result.rows;
  }
}
