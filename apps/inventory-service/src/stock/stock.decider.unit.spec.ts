import { stockDecider } from './stock.decider';
import type { StockCommand, StockEvent } from './stock.events';

/** given(events) / when(command) / then(events or refusal), over plain values. */
function given(...events: StockEvent[]) {
  const state = events.reduce(stockDecider.evolve, stockDecider.initialState());
  return {
    when: (command: StockCommand) => ({
      then: (expected: StockEvent[]) => expect(stockDecider.decide(command, state)).toEqual(expected),
      refusedWith: (reason: string) => expect(() => stockDecider.decide(command, state)).toThrow(reason),
    }),
    state,
  };
}

const added: StockEvent = {
  type: 'ProductAdded',
  data: { sku: 'SKU-1', name: 'Mug', priceCents: 1200, currency: 'EUR' },
};
const received = (quantity: number): StockEvent => ({ type: 'StockReceived', data: { quantity } });
const reserved = (orderId: string, quantity: number): StockEvent => ({
  type: 'StockReserved',
  data: { orderId, quantity },
});
const committed = (orderId: string, quantity: number): StockEvent => ({
  type: 'ReservationCommitted',
  data: { orderId, quantity },
});

describe('stock decider', () => {
  it('adds a product once', () => {
    given().when({ kind: 'AddProduct', sku: 'SKU-1', name: 'Mug', priceCents: 1200, currency: 'EUR' }).then([added]);
    given(added)
      .when({ kind: 'AddProduct', sku: 'SKU-1', name: 'Mug', priceCents: 1200, currency: 'EUR' })
      .refusedWith('ALREADY_EXISTS');
  });

  it('refuses anything on a product it does not know', () => {
    given().when({ kind: 'Reserve', orderId: 'o1', quantity: 1 }).refusedWith('UNKNOWN_PRODUCT');
  });

  it('reserves what is available', () => {
    given(added, received(5))
      .when({ kind: 'Reserve', orderId: 'o1', quantity: 5 })
      .then([reserved('o1', 5)]);
  });

  it('refuses a reservation that would take available stock below zero', () => {
    given(added, received(5), reserved('o1', 3))
      .when({ kind: 'Reserve', orderId: 'o2', quantity: 3 })
      .refusedWith('OUT_OF_STOCK');
  });

  it('reserves once per order, however often the command is delivered', () => {
    given(added, received(5), reserved('o1', 2)).when({ kind: 'Reserve', orderId: 'o1', quantity: 2 }).then([]);
  });

  it('releases a reservation back to available, once', () => {
    const { state } = given(added, received(5), reserved('o1', 2), {
      type: 'ReservationReleased',
      data: { orderId: 'o1', quantity: 2 },
    });
    expect(state.available).toBe(5);
    given(added, received(5), reserved('o1', 2))
      .when({ kind: 'Release', orderId: 'o1' })
      .then([{ type: 'ReservationReleased', data: { orderId: 'o1', quantity: 2 } }]);
    given(added, received(5)).when({ kind: 'Release', orderId: 'o1' }).then([]);
  });

  it('commits a reservation, and returns committed units when the order is cancelled', () => {
    given(added, received(5), reserved('o1', 2))
      .when({ kind: 'Commit', orderId: 'o1' })
      .then([committed('o1', 2)]);
    const afterCommit = given(added, received(5), reserved('o1', 2), committed('o1', 2));
    expect(afterCommit.state.available).toBe(3);
    afterCommit.when({ kind: 'Release', orderId: 'o1' }).then([]);
    afterCommit
      .when({ kind: 'Return', orderId: 'o1' })
      .then([{ type: 'StockReturned', data: { orderId: 'o1', quantity: 2 } }]);
    expect(
      given(added, received(5), reserved('o1', 2), committed('o1', 2), {
        type: 'StockReturned',
        data: { orderId: 'o1', quantity: 2 },
      }).state.available,
    ).toBe(5);
  });

  it('refuses receiving a quantity that is not a positive integer', () => {
    given(added).when({ kind: 'ReceiveStock', quantity: 0 }).refusedWith('INVALID_QUANTITY');
    given(added).when({ kind: 'ReceiveStock', quantity: 1.5 }).refusedWith('INVALID_QUANTITY');
  });

  it('keeps the open reservations of many orders apart, each copy a hash-table record (no hidden class per order id)', () => {
    const orders = Array.from({ length: 300 }, (_, i) => `o${i}`);
    const held = given(added, received(1000), ...orders.map((orderId) => reserved(orderId, 2)));
    const { state } = held;
    expect(state.available).toBe(400);
    expect(Object.keys(state.reserved)).toHaveLength(300);
    const released = stockDecider.evolve(state, {
      type: 'ReservationReleased',
      data: { orderId: 'o7', quantity: 2 },
    });
    const sold = stockDecider.evolve(released, { type: 'ReservationCommitted', data: { orderId: 'o8', quantity: 2 } });
    expect(sold.reserved['o7']).toBeUndefined();
    expect(sold.reserved['o8']).toBeUndefined();
    expect(Object.keys(sold.reserved)).toHaveLength(298);
    expect(sold.committed).toEqual({ o8: 2 });
    expect(state.reserved['o7']).toBe(2);
    // Object.create(null) records, which V8 keeps in dictionary mode (stock.decider.ts).
    for (const record of [state.reserved, sold.reserved, sold.committed])
      expect(Object.getPrototypeOf(record)).toBeNull();
    expect(JSON.parse(JSON.stringify(sold.committed))).toEqual({ o8: 2 });
  });
});
