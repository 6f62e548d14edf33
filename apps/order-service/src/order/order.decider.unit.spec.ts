import { orderDecider, sagaReactions } from './order.decider';
import type { OrderCommand, OrderEvent } from './order.events';

const T0 = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:00:40.000Z';
const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o-1',
    userId: 'u-1',
    items: [{ sku: 'MUG-001', quantity: 2, priceCents: 1200 }],
    totalCents: 2400,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    placedAt: T0,
    deadline: '2026-01-01T00:00:30.000Z',
  },
};
const reserved: OrderEvent = { type: 'StockReserved', data: { at: T0 } };
const captured: OrderEvent = { type: 'PaymentCaptured', data: { amountCents: 2400, at: T0 } };
const confirmed: OrderEvent = { type: 'OrderConfirmed', data: { at: T0 } };

/** given(events) / when(command) / then(events, and what the saga sends). */
function given(...history: OrderEvent[]) {
  const state = history.reduce(orderDecider.evolve, orderDecider.initialState());
  return {
    state,
    when(command: OrderCommand) {
      return {
        then(events: OrderEvent[], sends: string[] = []) {
          const decided = orderDecider.decide(command, state);
          expect(decided).toEqual(events);
          expect(sagaReactions(state, decided).map((c) => c.kind)).toEqual(sends);
        },
        refusedWith: (reason: string) => expect(() => orderDecider.decide(command, state)).toThrow(reason),
      };
    },
  };
}

describe('order decider and place-order saga', () => {
  it('places an order with its total and deadline, and asks for the stock', () => {
    given()
      .when({
        kind: 'PlaceOrder',
        orderId: 'o-1',
        userId: 'u-1',
        items: [{ sku: 'MUG-001', quantity: 2, priceCents: 1200 }],
        currency: 'EUR',
        paymentToken: 'tok_visa',
        now: T0,
        timeoutMs: 30_000,
      })
      .then([placed], ['ReserveStock']);
  });

  it('charges once the stock is reserved, and confirms on capture', () => {
    given(placed).when({ kind: 'RecordStockReserved', now: T0 }).then([reserved], ['ChargePayment']);
    given(placed, reserved)
      .when({ kind: 'RecordPaymentCaptured', amountCents: 2400, now: T0 })
      .then([captured, confirmed], ['CommitStock']);
  });

  it('rejects without compensation when the stock is short or unknown', () => {
    given(placed)
      .when({ kind: 'RecordStockReservationFailed', reason: 'OUT_OF_STOCK', now: T0 })
      .then([{ type: 'OrderRejected', data: { reason: 'OUT_OF_STOCK', at: T0 } }]);
  });

  it('rejects a declined payment and releases the stock', () => {
    given(placed, reserved)
      .when({ kind: 'RecordPaymentDeclined', reason: 'INSUFFICIENT_FUNDS', now: T0 })
      .then([{ type: 'OrderRejected', data: { reason: 'INSUFFICIENT_FUNDS', at: T0 } }], ['ReleaseStock']);
  });

  it('times out a pending order after its deadline and undoes everything', () => {
    given(placed, reserved).when({ kind: 'TimeOut', now: T0 }).then([]);
    given(placed, reserved)
      .when({ kind: 'TimeOut', now: LATER })
      .then([{ type: 'OrderRejected', data: { reason: 'TIMEOUT', at: LATER } }], ['ReleaseStock', 'RefundPayment']);
  });

  it('refunds a capture that arrives after the order timed out, and releases a late reservation', () => {
    const timedOut: OrderEvent = { type: 'OrderRejected', data: { reason: 'TIMEOUT', at: LATER } };
    given(placed, reserved, timedOut)
      .when({ kind: 'RecordPaymentCaptured', amountCents: 2400, now: LATER })
      .then([{ type: 'PaymentCaptured', data: { amountCents: 2400, at: LATER } }], ['RefundPayment']);
    given(placed, timedOut)
      .when({ kind: 'RecordStockReserved', now: LATER })
      .then([{ type: 'StockReserved', data: { at: LATER } }], ['ReleaseStock']);
    expect(given(placed, reserved, timedOut).state.status).toBe('REJECTED');
  });

  it('ignores a reply delivered twice', () => {
    given(placed, reserved).when({ kind: 'RecordStockReserved', now: T0 }).then([]);
    given(placed, reserved, captured, confirmed)
      .when({ kind: 'RecordPaymentCaptured', amountCents: 2400, now: T0 })
      .then([]);
  });

  it('cancels a confirmed order once stock and money are back, and refuses a second cancellation after that', () => {
    const requested: OrderEvent = { type: 'CancellationRequested', data: { at: LATER } };
    const released: OrderEvent = { type: 'StockReleased', data: { at: LATER } };
    given(placed, reserved, captured, confirmed)
      .when({ kind: 'Cancel', now: LATER })
      .then([requested], ['ReleaseStock', 'RefundPayment']);
    given(placed, reserved, captured, confirmed, requested).when({ kind: 'Cancel', now: LATER }).then([]);
    given(placed, reserved, captured, confirmed, requested)
      .when({ kind: 'RecordStockReleased', now: LATER })
      .then([released]);
    given(placed, reserved, captured, confirmed, requested, released)
      .when({ kind: 'RecordPaymentRefunded', amountCents: 2400, now: LATER })
      .then([
        { type: 'PaymentRefunded', data: { amountCents: 2400, at: LATER } },
        { type: 'OrderCancelled', data: { at: LATER } },
      ]);
    const cancelled = given(
      placed,
      reserved,
      captured,
      confirmed,
      requested,
      released,
      {
        type: 'PaymentRefunded',
        data: { amountCents: 2400, at: LATER },
      },
      { type: 'OrderCancelled', data: { at: LATER } },
    );
    expect(cancelled.state).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_CUSTOMER' });
    cancelled.when({ kind: 'Cancel', now: LATER }).refusedWith('NOT_CANCELLABLE');
  });

  it('refuses to cancel a rejected order', () => {
    given(placed, { type: 'OrderRejected', data: { reason: 'OUT_OF_STOCK', at: T0 } })
      .when({ kind: 'Cancel', now: T0 })
      .refusedWith('NOT_CANCELLABLE');
  });
});
