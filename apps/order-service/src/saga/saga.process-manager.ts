import type pg from 'pg';
import type { ReceivedEnvelope } from '@shop/contracts';
import { handleManyOnce, handleOnce } from '@shop/event-store';
import { type BatchItem, type MessageContext, PermanentError } from '@shop/messaging';
import { type CatalogProduct, upsertCatalog } from '../catalog/catalog.projection';
import type { OrderCommand } from '../order/order.events';
import { OrderRefused } from '../order/order.events';
import { recordSagaOutcome } from '../order/saga.metrics';
import { type Decided, type OrderStore, streamOfOrder } from '../order/order.store';

export const INBOX_CONSUMER = 'order-saga';

/**
 * What the saga reads of inventory.events and payment.events: the replies to
 * its commands and the catalog's names and prices. The consumer passes over
 * the rest (StockLevelChanged, StockCommitted) by their type header, unread.
 */
export const SAGA_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'ProductAdded',
  'ProductPriceChanged',
  'StockReserved',
  'StockReservationFailed',
  'StockReleased',
  'PaymentCaptured',
  'PaymentDeclined',
  'PaymentRefunded',
]);

/**
 * Turns the replies of inventory and payment into commands on the order (the
 * saga's next step or its compensation), and keeps the catalog copy's names
 * and prices current. Every message is handled once (inbox in the same
 * transaction). Any other type (StockLevelChanged, one per SKU of every
 * reservation; StockCommitted) is let pass without a transaction: the
 * consumer passes over it unread when its type header says so
 * (SAGA_MESSAGE_TYPES), and sagaStep ignores it otherwise.
 */
export class SagaProcessManager {
  constructor(
    private readonly pool: pg.Pool,
    private readonly orders: OrderStore,
  ) {}

  async handle(envelope: ReceivedEnvelope, _context: MessageContext): Promise<void> {
    const step = sagaStep(envelope);
    if (step === 'ignore') return;
    if (step === 'catalog') {
      const product = envelope.payload as CatalogProduct;
      await handleOnce(this.pool, INBOX_CONSUMER, envelope.id, (client) => upsertCatalog(client, product));
      return;
    }
    const meta = { correlationId: envelope.correlationId, causationId: envelope.id };
    await this.run(envelope, step, () =>
      this.orders.execute(step.orderId, step.command, meta, {
        inbox: { consumer: INBOX_CONSUMER, messageId: envelope.id },
      }),
    );
  }

  /**
   * Consecutive messages of one partition, in order. A reply to an order
   * whose state this process holds (its own last append) is one statement
   * of its own (OrderStore, ADR 0009); from the first message that is not,
   * the rest go in one transaction (ADR 0007). A failure leaves what was
   * committed before it, and the consumer handles the messages one by one
   * (the inbox makes those committed no-ops).
   */
  async handleBatch(items: readonly BatchItem[]): Promise<void> {
    let next = 0;
    for (; next < items.length; next++) {
      const item = items[next] as BatchItem;
      const step = sagaStep(item.envelope);
      if (step === 'ignore') continue;
      if (step === 'catalog' || !this.orders.holds(step.orderId)) break;
      await item.traced(() => this.handle(item.envelope, item.context));
    }
    if (next < items.length) await this.handleInOneTransaction(items.slice(next));
  }

  /**
   * Messages in one transaction: every order they touch locked at once
   * (sorted, so a batch of inventory.events and one of payment.events cannot
   * deadlock), one inbox statement for all, then each message in order,
   * under its own trace. Any failure rolls it all back.
   */
  private async handleInOneTransaction(items: readonly BatchItem[]): Promise<void> {
    const decided: Decided[] = [];
    const ids = items.map((item) => item.envelope.id);
    const steps = items.map((item) => ({ item, step: sagaStep(item.envelope) }));
    // Every order's lock before the inbox rows (handleManyOnce), so no write precedes the locks.
    const orders = steps.flatMap(({ step }) => (typeof step === 'string' ? [] : [streamOfOrder(step.orderId)]));
    await handleManyOnce(
      this.pool,
      INBOX_CONSUMER,
      ids,
      async (client, first) => {
        for (const { item, step } of steps) {
          if (step === 'ignore' || !first(item.envelope.id)) continue;
          const { envelope } = item;
          if (step === 'catalog') {
            await upsertCatalog(client, envelope.payload as CatalogProduct);
            continue;
          }
          const meta = { correlationId: envelope.correlationId, causationId: envelope.id };
          const result = await item.traced(() =>
            this.run(envelope, step, () =>
              this.orders.execute(step.orderId, step.command, meta, { client, locked: true }),
            ),
          );
          if (result !== 'duplicate') decided.push(result);
        }
      },
      orders,
    );
    for (const { before, after } of decided) recordSagaOutcome(before, after);
  }

  private async run<T>(envelope: ReceivedEnvelope, step: OrderStep, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof OrderRefused && error.reason === 'UNKNOWN_ORDER') {
        throw new PermanentError(`${envelope.type} for unknown order ${step.orderId}`);
      }
      throw error;
    }
  }
}

interface OrderStep {
  readonly orderId: string;
  readonly command: OrderCommand;
}

/** What a message means to the saga: a command on an order, a catalog change, or nothing. */
function sagaStep(envelope: ReceivedEnvelope): OrderStep | 'catalog' | 'ignore' {
  if (!SAGA_MESSAGE_TYPES.has(envelope.type)) return 'ignore';
  const now = new Date().toISOString();
  switch (envelope.type) {
    case 'ProductAdded':
    case 'ProductPriceChanged':
      return 'catalog';
    case 'StockReserved':
      return { orderId: envelope.payload.orderId, command: { kind: 'RecordStockReserved', now } };
    case 'StockReservationFailed':
      return {
        orderId: envelope.payload.orderId,
        command: { kind: 'RecordStockReservationFailed', reason: envelope.payload.reason, now },
      };
    case 'StockReleased':
      return { orderId: envelope.payload.orderId, command: { kind: 'RecordStockReleased', now } };
    case 'PaymentCaptured':
      return {
        orderId: envelope.payload.orderId,
        command: { kind: 'RecordPaymentCaptured', amountCents: envelope.payload.amountCents, now },
      };
    case 'PaymentDeclined':
      return {
        orderId: envelope.payload.orderId,
        command: { kind: 'RecordPaymentDeclined', reason: envelope.payload.reason, now },
      };
    case 'PaymentRefunded':
      return {
        orderId: envelope.payload.orderId,
        command: { kind: 'RecordPaymentRefunded', amountCents: envelope.payload.amountCents, now },
      };
    default:
      return 'ignore';
  }
}
