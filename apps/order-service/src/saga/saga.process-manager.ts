import type pg from 'pg';
import type { ReceivedEnvelope } from '@shop/contracts';
import { handleOnce } from '@shop/event-store';
import { type MessageContext, PermanentError } from '@shop/messaging';
import { upsertCatalog } from '../catalog/catalog.projection';
import type { OrderCommand } from '../order/order.events';
import { OrderRefused } from '../order/order.events';
import type { OrderStore } from '../order/order.store';

export const INBOX_CONSUMER = 'order-saga';

/**
 * Turns the replies of inventory and payment into commands on the order (the
 * saga's next step or its compensation), and keeps the catalog copy's names
 * and prices current. Every message is handled once (inbox in the same
 * transaction). StockLevelChanged, one per SKU of every reservation, is let
 * pass without a transaction: order-service does not price with stock levels.
 */
export class SagaProcessManager {
  constructor(
    private readonly pool: pg.Pool,
    private readonly orders: OrderStore,
  ) {}

  async handle(envelope: ReceivedEnvelope, _context: MessageContext): Promise<void> {
    const now = new Date().toISOString();
    const meta = { correlationId: envelope.correlationId, causationId: envelope.id };
    const inbox = { consumer: INBOX_CONSUMER, messageId: envelope.id };
    let orderId: string;
    let command: OrderCommand;
    switch (envelope.type) {
      case 'ProductAdded':
      case 'ProductPriceChanged': {
        const product = envelope.payload;
        await handleOnce(this.pool, INBOX_CONSUMER, envelope.id, (client) => upsertCatalog(client, product));
        return;
      }
      case 'StockReserved':
        ({ orderId } = envelope.payload);
        command = { kind: 'RecordStockReserved', now };
        break;
      case 'StockReservationFailed':
        ({ orderId } = envelope.payload);
        command = { kind: 'RecordStockReservationFailed', reason: envelope.payload.reason, now };
        break;
      case 'StockReleased':
        ({ orderId } = envelope.payload);
        command = { kind: 'RecordStockReleased', now };
        break;
      case 'PaymentCaptured':
        ({ orderId } = envelope.payload);
        command = { kind: 'RecordPaymentCaptured', amountCents: envelope.payload.amountCents, now };
        break;
      case 'PaymentDeclined':
        ({ orderId } = envelope.payload);
        command = { kind: 'RecordPaymentDeclined', reason: envelope.payload.reason, now };
        break;
      case 'PaymentRefunded':
        ({ orderId } = envelope.payload);
        command = { kind: 'RecordPaymentRefunded', amountCents: envelope.payload.amountCents, now };
        break;
      default:
        return;
    }
    try {
      await this.orders.execute(orderId, command, meta, { inbox });
    } catch (error) {
      if (error instanceof OrderRefused && error.reason === 'UNKNOWN_ORDER') {
        throw new PermanentError(`${envelope.type} for unknown order ${orderId}`);
      }
      throw error;
    }
  }
}
