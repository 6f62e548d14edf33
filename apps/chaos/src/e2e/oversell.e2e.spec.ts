import { randomUUID } from 'node:crypto';
import { waitFor } from '@shop/testing';
import { adminCall, chargesFor, settledAudit } from './e2e-support';
import { type OrderView, ShopClient } from './shop-client';

/**
 * 200 customers race for 50 units of one SKU, all at once, through the
 * gateway: exactly 50 orders are confirmed and paid, 150 are rejected
 * OUT_OF_STOCK without a charge, and the stock ends at 0, never below.
 */
const SKU = 'PEN-001';
const UNITS = 50;
const ORDERS = 200;

/** Every order of `client`, newest first, following the cursor. */
async function allOrders(client: ShopClient): Promise<OrderView[]> {
  const orders: OrderView[] = [];
  let cursor: string | undefined;
  do {
    const response = await client.request('GET', `/orders?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    if (response.status !== 200) throw new Error(`GET /orders: ${response.status}`);
    const page = (await response.json()) as { items: OrderView[]; nextCursor?: string };
    orders.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return orders;
}

describe('oversell (e2e, through the gateway)', () => {
  it(`confirms exactly ${UNITS} of ${ORDERS} concurrent single-unit orders for ${UNITS} units`, async () => {
    const client = await ShopClient.fromEnv().signUp();

    // Exactly UNITS to start: an earlier run may have sold the SKU (the operator tops it up) or a
    // chaos experiment restocked it (a customer buys the surplus, up to 100 units an order).
    const surplus: string[] = [];
    for (let extra = (await client.available(SKU)) - UNITS; extra > 0; extra -= 100) {
      const response = await client.placeOrder(
        { items: [{ sku: SKU, quantity: Math.min(100, extra) }], paymentToken: 'tok_visa' },
        randomUUID(),
      );
      expect(response.status).toBe(202);
      surplus.push(((await response.json()) as { orderId: string }).orderId);
    }
    for (const orderId of surplus) {
      await waitFor(
        'the surplus order to be confirmed',
        async () => (await client.order(orderId)).status === 'CONFIRMED',
        {
          timeoutMs: 45_000,
        },
      );
    }
    const before = await client.available(SKU);
    if (before < UNITS) {
      const restock = await adminCall('INVENTORY_SERVICE_URL', 'ADMIN_TOKEN', 'POST', '/admin/stock', {
        sku: SKU,
        quantity: UNITS - before,
      });
      expect(restock.status).toBeLessThan(300);
      await waitFor('the restock to show', async () => (await client.available(SKU)) === UNITS);
    }

    const responses = await Promise.all(
      Array.from({ length: ORDERS }, () =>
        client.placeOrder({ items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }, randomUUID()),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: ORDERS }, () => 202));
    const orderIds = await Promise.all(
      responses.map(async (response) => ((await response.json()) as { orderId: string }).orderId),
    );
    expect(new Set(orderIds).size).toBe(ORDERS);

    // Watch the stock while the saga runs: it must never be seen below zero.
    let lowest = UNITS;
    const ended = await waitFor(
      'every order to end',
      async () => {
        lowest = Math.min(lowest, await client.available(SKU));
        const orders = (await allOrders(client)).filter((order) => orderIds.includes(order.orderId));
        return orders.length === ORDERS && orders.every((order) => order.status !== 'PENDING') ? orders : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );

    const confirmed = ended.filter((order) => order.status === 'CONFIRMED');
    const rejected = ended.filter((order) => order.status === 'REJECTED');
    expect(confirmed).toHaveLength(UNITS);
    expect(rejected).toHaveLength(ORDERS - UNITS);
    expect(new Set(rejected.map((order) => order.reason))).toEqual(new Set(['OUT_OF_STOCK']));
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(await client.available(SKU)).toBe(0);

    // The card processor's ledger: one capture per confirmed order, nothing for the rejected ones.
    const ledger = await Promise.all(
      orderIds.map(async (orderId) => ({ orderId, charges: await chargesFor(orderId) })),
    );
    const captured = ledger.filter(({ charges }) => charges.some((charge) => charge.status === 'captured'));
    expect(captured.map(({ orderId }) => orderId).sort()).toEqual(confirmed.map((order) => order.orderId).sort());
    expect(ledger.every(({ charges }) => charges.length <= 1)).toBe(true);

    expect((await settledAudit([...surplus, ...orderIds])).violations).toEqual([]);
  }, 240_000);
});
