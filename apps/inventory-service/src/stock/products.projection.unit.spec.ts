import { foldProductsChange, productsWrites } from './products.projection';

describe('foldProductsChange: a run of stock events as one write per row', () => {
  it('adds a new product with the stock received in the same run', () => {
    const change = foldProductsChange([
      {
        sku: 'MUG-1',
        event: { type: 'ProductAdded', data: { sku: 'MUG-1', name: 'Mug', priceCents: 900, currency: 'EUR' } },
      },
      { sku: 'MUG-1', event: { type: 'StockReceived', data: { quantity: 40 } } },
    ]);
    expect([...change.added]).toEqual([['MUG-1', { name: 'Mug', priceCents: 900, currency: 'EUR', available: 40 }]]);
    expect(change.deltas.size).toBe(0);
  });

  it('sums the changes of available per SKU and keeps the last state of each reservation', () => {
    const change = foldProductsChange([
      { sku: 'TEE-1', event: { type: 'StockReserved', data: { orderId: 'o-1', quantity: 2 } } },
      { sku: 'CAP-1', event: { type: 'StockReserved', data: { orderId: 'o-1', quantity: 1 } } },
      { sku: 'TEE-1', event: { type: 'ReservationReleased', data: { orderId: 'o-1', quantity: 2 } } },
      { sku: 'TEE-1', event: { type: 'StockReserved', data: { orderId: 'o-2', quantity: 3 } } },
      { sku: 'CAP-1', event: { type: 'ReservationCommitted', data: { orderId: 'o-1', quantity: 1 } } },
    ]);
    expect(Object.fromEntries(change.deltas)).toEqual({ 'TEE-1': -3, 'CAP-1': -1 });
    expect([...change.reservations.values()]).toEqual([
      { orderId: 'o-1', sku: 'TEE-1', quantity: 2, state: 'released' },
      { orderId: 'o-1', sku: 'CAP-1', quantity: 1, state: 'committed' },
      { orderId: 'o-2', sku: 'TEE-1', quantity: 3, state: 'reserved' },
    ]);
  });

  it('writes nothing for a SKU whose changes cancel out, and nothing at all for no events', () => {
    const writes = productsWrites(
      foldProductsChange([
        { sku: 'TEE-1', event: { type: 'StockReserved', data: { orderId: 'o-1', quantity: 2 } } },
        { sku: 'TEE-1', event: { type: 'ReservationReleased', data: { orderId: 'o-1', quantity: 2 } } },
      ]),
    );
    expect(writes.map((write) => write.sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'insert into reservations',
    ]);
    expect(productsWrites(foldProductsChange([]))).toEqual([]);
  });
});
