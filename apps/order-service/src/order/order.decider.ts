import type { OrderReason, OrderStatus } from '@shop/contracts';
import type { Decider } from '@shop/event-store';
import { type OrderCommand, type OrderEvent, type OrderItem, OrderRefused, type SagaCommand } from './order.events';

/**
 * The order and its place-order saga (ADR 0005): reserve stock → charge →
 * confirm; a refusal or a timeout rejects the order and undoes what was done;
 * a cancellation undoes everything and ends CANCELLED once stock and money
 * are back. Replies can arrive late (after a timeout) or twice; late
 * successes are compensated, duplicates change nothing.
 */
export interface OrderState {
  readonly status: OrderStatus | 'NONE';
  readonly orderId: string;
  readonly userId: string;
  readonly items: readonly OrderItem[];
  readonly totalCents: number;
  readonly currency: string;
  readonly paymentToken: string;
  readonly reason: OrderReason | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deadline: string;
  readonly stockReserved: boolean;
  readonly capturedCents: number;
  /** A cancellation was asked for and is waiting for stock and money to come back. */
  readonly cancelling: boolean;
  readonly cancelStockReleased: boolean;
  readonly cancelRefunded: boolean;
}

const initialState = (): OrderState => ({
  status: 'NONE',
  orderId: '',
  userId: '',
  items: [],
  totalCents: 0,
  currency: '',
  paymentToken: '',
  reason: undefined,
  createdAt: '',
  updatedAt: '',
  deadline: '',
  stockReserved: false,
  capturedCents: 0,
  cancelling: false,
  cancelStockReleased: false,
  cancelRefunded: false,
});

/** Still waiting for the saga to move on (and so for its deadline). */
const inFlight = (state: OrderState) => state.status === 'PENDING';

function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  if (command.kind === 'PlaceOrder') {
    if (state.status !== 'NONE') throw new OrderRefused('ORDER_EXISTS');
    const { orderId, userId, items, currency, paymentToken, now, timeoutMs } = command;
    const totalCents = items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0);
    const deadline = new Date(Date.parse(now) + timeoutMs).toISOString();
    return [
      {
        type: 'OrderPlaced',
        data: { orderId, userId, items, totalCents, currency, paymentToken, placedAt: now, deadline },
      },
    ];
  }
  if (state.status === 'NONE') throw new OrderRefused('UNKNOWN_ORDER');
  const at = command.now;
  switch (command.kind) {
    case 'RecordStockReserved':
      return state.stockReserved ? [] : [{ type: 'StockReserved', data: { at } }];
    case 'RecordStockReservationFailed':
      return inFlight(state) && !state.cancelling
        ? [{ type: 'OrderRejected', data: { reason: command.reason, at } }]
        : [];
    case 'RecordPaymentCaptured': {
      if (state.capturedCents > 0) return [];
      const captured: OrderEvent = { type: 'PaymentCaptured', data: { amountCents: command.amountCents, at } };
      return inFlight(state) && !state.cancelling ? [captured, { type: 'OrderConfirmed', data: { at } }] : [captured];
    }
    case 'RecordPaymentDeclined':
      return inFlight(state) && !state.cancelling
        ? [{ type: 'OrderRejected', data: { reason: command.reason, at } }]
        : [];
    case 'TimeOut':
      return inFlight(state) && Date.parse(at) >= Date.parse(state.deadline)
        ? [{ type: 'OrderRejected', data: { reason: 'TIMEOUT', at } }]
        : [];
    case 'Cancel':
      if (state.status !== 'PENDING' && state.status !== 'CONFIRMED') throw new OrderRefused('NOT_CANCELLABLE');
      return state.cancelling ? [] : [{ type: 'CancellationRequested', data: { at } }];
    case 'RecordStockReleased':
      return completeCancellation(state, { type: 'StockReleased', data: { at } });
    case 'RecordPaymentRefunded':
      return completeCancellation(state, { type: 'PaymentRefunded', data: { amountCents: command.amountCents, at } });
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

/** A compensation's answer; the one that completes a cancellation also cancels the order. */
function completeCancellation(state: OrderState, event: OrderEvent): OrderEvent[] {
  const after = evolve(state, event);
  const done = after.cancelling && after.cancelStockReleased && after.cancelRefunded && after.status !== 'CANCELLED';
  return done ? [event, { type: 'OrderCancelled', data: { at: after.updatedAt } }] : [event];
}

function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced': {
      const { orderId, userId, items, totalCents, currency, paymentToken, placedAt, deadline } = event.data;
      return {
        ...state,
        status: 'PENDING',
        orderId,
        userId,
        items,
        totalCents,
        currency,
        paymentToken,
        createdAt: placedAt,
        updatedAt: placedAt,
        deadline,
      };
    }
    case 'StockReserved':
      return { ...state, stockReserved: true };
    case 'PaymentCaptured':
      return { ...state, capturedCents: event.data.amountCents };
    case 'OrderConfirmed':
      return { ...state, status: 'CONFIRMED', updatedAt: event.data.at };
    case 'OrderRejected':
      return { ...state, status: 'REJECTED', reason: event.data.reason, updatedAt: event.data.at, cancelling: false };
    case 'CancellationRequested':
      return { ...state, cancelling: true, cancelStockReleased: false, cancelRefunded: false };
    case 'StockReleased':
      return {
        ...state,
        cancelStockReleased: state.cancelling ? true : state.cancelStockReleased,
        updatedAt: event.data.at,
      };
    case 'PaymentRefunded':
      return { ...state, cancelRefunded: state.cancelling ? true : state.cancelRefunded, updatedAt: event.data.at };
    case 'OrderCancelled':
      return {
        ...state,
        status: 'CANCELLED',
        reason: 'CANCELLED_BY_CUSTOMER',
        updatedAt: event.data.at,
        cancelling: false,
      };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = { decide, evolve, initialState };

/**
 * What the saga sends out for the events just decided, judged on the state
 * before them: the next step, or the compensation of a late success.
 */
export function sagaReactions(before: OrderState, events: readonly OrderEvent[]): SagaCommand[] {
  const commands: SagaCommand[] = [];
  const live = before.status === 'PENDING' && !before.cancelling;
  for (const event of events) {
    switch (event.type) {
      case 'OrderPlaced':
        commands.push({ kind: 'ReserveStock' });
        break;
      case 'StockReserved':
        // Reserved in time: charge. Reserved after the order ended: give the stock back.
        commands.push(live ? { kind: 'ChargePayment' } : { kind: 'ReleaseStock' });
        break;
      case 'PaymentCaptured':
        // Captured after the order ended (timeout, cancellation): refund it.
        if (!live) commands.push({ kind: 'RefundPayment' });
        break;
      case 'OrderConfirmed':
        commands.push({ kind: 'CommitStock' });
        break;
      case 'OrderRejected':
        if (event.data.reason === 'TIMEOUT') commands.push({ kind: 'ReleaseStock' }, { kind: 'RefundPayment' });
        if (event.data.reason === 'PAYMENT_DECLINED' || event.data.reason === 'INSUFFICIENT_FUNDS') {
          commands.push({ kind: 'ReleaseStock' });
        }
        break;
      case 'CancellationRequested':
        commands.push({ kind: 'ReleaseStock' }, { kind: 'RefundPayment' });
        break;
      default:
        break;
    }
  }
  return commands;
}
