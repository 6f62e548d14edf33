import { randomUUID } from 'node:crypto';
import { waitFor } from '@shop/testing';
import { placeAccepted, settledAudit, terminal } from './e2e-support';
import { ShopClient } from './shop-client';

/**
 * The place-order saga on the running stack, only through the gateway. Each
 * scenario ends when its orders are terminal, and the suite ends by checking
 * the five invariants over every order it placed.
 */
const placed: string[] = [];
let alice: ShopClient;
let bob: ShopClient;

async function place(client: ShopClient, items: Array<{ sku: string; quantity: number }>, paymentToken = 'tok_visa') {
  const orderId = await placeAccepted(client, items, paymentToken);
  placed.push(orderId);
  return orderId;
}

beforeAll(async () => {
  alice = await ShopClient.fromEnv().signUp();
  bob = await ShopClient.fromEnv().signUp();
}, 60_000);

afterAll(async () => {
  for (const orderId of placed) await terminal(alice, orderId).catch(() => terminal(bob, orderId));
  expect((await settledAudit(placed)).violations).toEqual([]);
}, 120_000);

describe('place-order saga (e2e, through the gateway)', () => {
  it('confirms a paid order and takes its stock', async () => {
    const before = await alice.available('MUG-001');
    const orderId = await place(alice, [{ sku: 'MUG-001', quantity: 2 }]);
    const order = await terminal(alice, orderId);
    expect(order).toMatchObject({ status: 'CONFIRMED', totalCents: 2 * (order.items[0]?.priceCents ?? 0) });
    expect(await alice.available('MUG-001')).toBe(before - 2);
  }, 60_000);

  it.each([
    ['tok_chargeDeclined', 'PAYMENT_DECLINED'],
    ['tok_chargeDeclinedInsufficientFunds', 'INSUFFICIENT_FUNDS'],
  ])(
    'rejects %s with %s and gives the stock back',
    async (token, reason) => {
      const before = await alice.available('TEE-001');
      const orderId = await place(alice, [{ sku: 'TEE-001', quantity: 1 }], token);
      expect(await terminal(alice, orderId)).toMatchObject({ status: 'REJECTED', reason });
      await waitFor('the stock to come back', async () => (await alice.available('TEE-001')) === before);
    },
    60_000,
  );

  it('rejects an order for more than is in stock with OUT_OF_STOCK', async () => {
    // A line holds at most 100 units: if a restock left more, a customer buys the surplus first.
    for (let surplus = (await alice.available('BOARD-001')) - 99; surplus > 0; surplus -= 100) {
      const bought = await place(bob, [{ sku: 'BOARD-001', quantity: Math.min(100, surplus) }]);
      expect(await terminal(bob, bought)).toMatchObject({ status: 'CONFIRMED' });
    }
    const available = await alice.available('BOARD-001');
    const orderId = await place(alice, [{ sku: 'BOARD-001', quantity: available + 1 }]);
    expect(await terminal(alice, orderId)).toMatchObject({ status: 'REJECTED', reason: 'OUT_OF_STOCK' });
    expect(await alice.available('BOARD-001')).toBe(available);
  }, 60_000);

  it('refuses an SKU the catalog does not have with 400', async () => {
    const response = await alice.placeOrder({ items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }], paymentToken: 'tok_visa' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('cancels a confirmed order: stock back, payment refunded; a second cancel is 409', async () => {
    const before = await alice.available('CAP-001');
    const orderId = await place(alice, [{ sku: 'CAP-001', quantity: 3 }]);
    expect(await terminal(alice, orderId)).toMatchObject({ status: 'CONFIRMED' });
    const cancel = await alice.request('POST', `/orders/${orderId}/cancel`);
    expect(cancel.status).toBe(202);
    await waitFor('the order to be cancelled', async () => (await alice.order(orderId)).status === 'CANCELLED', {
      timeoutMs: 30_000,
    });
    expect(await alice.order(orderId)).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_CUSTOMER' });
    expect(await alice.available('CAP-001')).toBe(before);
    expect((await alice.request('POST', `/orders/${orderId}/cancel`)).status).toBe(409);
  }, 60_000);

  it('gives a replayed key the same order, 20 concurrent duplicates one order, and another body 409', async () => {
    const key = randomUUID();
    const body = { items: [{ sku: 'SOCK-001', quantity: 1 }], paymentToken: 'tok_visa' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => alice.placeOrder(body, key)));
    expect(responses.every((response) => response.status === 200 || response.status === 202)).toBe(true);
    const ids = new Set(
      await Promise.all(responses.map(async (r) => ((await r.json()) as { orderId: string }).orderId)),
    );
    expect(ids.size).toBe(1);
    const [orderId] = [...ids] as [string];
    placed.push(orderId);
    const replay = await alice.placeOrder(body, key);
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { orderId: string }).orderId).toBe(orderId);
    const other = await alice.placeOrder({ ...body, items: [{ sku: 'SOCK-001', quantity: 2 }] }, key);
    expect(other.status).toBe(409);
    await terminal(alice, orderId);
  }, 60_000);

  it("never shows or cancels another user's order", async () => {
    const orderId = await place(alice, [{ sku: 'NOTE-001', quantity: 1 }]);
    expect((await bob.request('GET', `/orders/${orderId}`)).status).toBe(404);
    expect((await bob.request('POST', `/orders/${orderId}/cancel`)).status).toBe(404);
    const list = (await (await bob.request('GET', '/orders')).json()) as { items: Array<{ orderId: string }> };
    expect(list.items.map((order) => order.orderId)).not.toContain(orderId);
    await terminal(alice, orderId);
  }, 60_000);
});
