import type { OrderReason, OrderStatus } from '@shop/contracts';

/**
 * Domain events of one order, private to order-service. The order's stream
 * is also the state of its place-order saga (ADR 0005): which step it is in,
 * what has been done and must be undone, and its deadline.
 */
export interface OrderItem {
  readonly sku: string;
  readonly quantity: number;
  readonly priceCents: number;
}

export type OrderEvent =
  | {
      type: 'OrderPlaced';
      data: {
        orderId: string;
        userId: string;
        items: OrderItem[];
        totalCents: number;
        currency: string;
        paymentToken: string;
        placedAt: string;
        deadline: string;
      };
    }
  | { type: 'StockReserved'; data: { at: string } }
  | { type: 'PaymentCaptured'; data: { amountCents: number; at: string } }
  | { type: 'OrderConfirmed'; data: { at: string } }
  | { type: 'OrderRejected'; data: { reason: RejectReason; at: string } }
  | { type: 'CancellationRequested'; data: { at: string } }
  | { type: 'StockReleased'; data: { at: string } }
  | { type: 'PaymentRefunded'; data: { amountCents: number; at: string } }
  | { type: 'OrderCancelled'; data: { at: string } };

export type RejectReason = Exclude<OrderReason, 'CANCELLED_BY_CUSTOMER'>;

/** What the saga must send out after a decision (written to the outbox with the events). */
export type SagaCommand =
  | { kind: 'ReserveStock' }
  | { kind: 'ChargePayment' }
  | { kind: 'CommitStock' }
  | { kind: 'ReleaseStock' }
  | { kind: 'RefundPayment' };

export type OrderCommand =
  | {
      kind: 'PlaceOrder';
      orderId: string;
      userId: string;
      items: OrderItem[];
      currency: string;
      paymentToken: string;
      now: string;
      timeoutMs: number;
    }
  | { kind: 'RecordStockReserved'; now: string }
  | { kind: 'RecordStockReservationFailed'; reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT'; now: string }
  | { kind: 'RecordPaymentCaptured'; amountCents: number; now: string }
  | { kind: 'RecordPaymentDeclined'; reason: 'PAYMENT_DECLINED' | 'INSUFFICIENT_FUNDS'; now: string }
  | { kind: 'RecordStockReleased'; now: string }
  | { kind: 'RecordPaymentRefunded'; amountCents: number; now: string }
  | { kind: 'TimeOut'; now: string }
  | { kind: 'Cancel'; now: string };

export type OrderRefusal = 'ORDER_EXISTS' | 'UNKNOWN_ORDER' | 'NOT_CANCELLABLE';

export class OrderRefused extends Error {
  constructor(readonly reason: OrderRefusal) {
    super(reason);
    this.name = 'OrderRefused';
  }
}

export type { OrderStatus };
