import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readBreakers } from './breakers';
import { GatewayStandIn, type StandInAnswer } from './gateway-stand-in';
import { runLoad } from './load';
import type { LoadReport, SecondSample } from './types';

/**
 * The load generator against an in-process stand-in of the gateway (real
 * sockets, the contract's routes and bodies): what the report says is
 * compared with what the stand-in answered.
 */
const PRODUCTS = [
  { sku: 'FAST-1', priceCents: 1200, available: 1_000 },
  { sku: 'FAST-2', priceCents: 2500, available: 1_000 },
  { sku: 'SLOW-1', priceCents: 900, available: 1_000 },
  { sku: 'DOWN-1', priceCents: 4900, available: 1_000 },
  { sku: 'LOW-1', priceCents: 19_900, available: 2 },
];

let standIn: GatewayStandIn | undefined;

afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

async function start(options: Partial<Parameters<typeof GatewayStandIn.start>[0]> = {}): Promise<GatewayStandIn> {
  standIn = await GatewayStandIn.start({ products: PRODUCTS, ...options });
  return standIn;
}

/** The answers to the workload's own requests: not the set-up (catalog, register, login, a saved customer's check). */
function workloadAnswers(gateway: GatewayStandIn): StandInAnswer[] {
  const answers = gateway.answers.filter(
    (answer) => !answer.route.startsWith('POST /auth/') && answer.route !== 'GET /me',
  );
  const setupCatalog = answers.findIndex((answer) => answer.route === 'GET /products');
  return answers.filter((_, index) => index !== setupCatalog);
}

function counts(answers: readonly StandInAnswer[]): Record<string, number> {
  const byStatus: Record<string, number> = {};
  for (const answer of answers) byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
  return byStatus;
}

function sum(samples: readonly SecondSample[], field: 'requests' | 'started' | 'errors' | 'dropped'): number {
  return samples.reduce((total, sample) => total + (sample[field] ?? 0), 0);
}

/** Samples are handed out in order, one per second from 0, each `at` a second after the one before. */
function expectConsecutive(report: LoadReport, handedOut: readonly SecondSample[]): void {
  expect(handedOut).toEqual(report.samples);
  report.samples.forEach((sample, index) => {
    expect(sample.second).toBe(index);
    expect(sample.at - (report.samples[0]?.at ?? 0)).toBe(index * 1000);
  });
  expect(sum(report.samples, 'requests')).toBe(report.totals.requests);
  expect(sum(report.samples, 'started')).toBe(report.totals.started);
  expect(sum(report.samples, 'errors')).toBe(report.totals.errors);
  expect(sum(report.samples, 'dropped')).toBe(report.totals.dropped);
}

describe('runLoad (against a stand-in gateway)', () => {
  it('open loop: sends every arrival, counts answers as the gateway gave them, 503s as errors, 409 cancels not', async () => {
    const gateway = await start({ productDelayMs: { 'SLOW-1': 300 }, failingSkus: ['DOWN-1'] });
    const handedOut: SecondSample[] = [];

    const report = await runLoad({
      gatewayUrl: gateway.url,
      mode: 'open',
      ratePerSecond: 100,
      durationSeconds: 3,
      customers: 5,
      mix: { browse: 50, order: 25, cancel: 25 },
      onSample: (sample) => handedOut.push(sample),
    });

    // The arrival rate does not bend to the slow route: all 300 arrivals were sent, and all awaited.
    expect(report.totals.started).toBe(300);
    expect(report.totals.dropped).toBe(0);
    expect(report.totals.requests).toBe(300);
    expectConsecutive(report, handedOut);
    expect(report.samples.length).toBeGreaterThanOrEqual(3);

    // The report's statuses are exactly the gateway's answers to the workload.
    const answers = workloadAnswers(gateway);
    expect(report.totals.byStatus).toEqual(counts(answers));
    // Errors are the 503s; the 409s (cancelling a REJECTED order) are counted but are not errors.
    expect(report.totals.byStatus['503']).toBeGreaterThan(0);
    expect(report.totals.byStatus['409']).toBeGreaterThan(0);
    expect(report.totals.errors).toBe(report.totals.byStatus['503']);
    // Only the customers' own orders are cancelled, and no request is malformed.
    expect(report.totals.byStatus['404']).toBeUndefined();
    expect(report.totals.byStatus['400']).toBeUndefined();

    // Slow answers show in the latency: more than 1% of the requests took 300 ms.
    expect(report.totals.maxMs).toBeGreaterThanOrEqual(300);
    expect(report.totals.p99Ms).toBeGreaterThanOrEqual(297);
    expect(report.totals.p50Ms).toBeLessThan(100);

    // Every accepted order is in the report, once; each carried its own Idempotency-Key.
    const accepted = answers.filter((answer) => answer.route === 'POST /orders' && answer.status === 202);
    expect(new Set(report.orderIds)).toEqual(new Set(accepted.map((answer) => answer.orderId)));
    expect(report.orderIds).toHaveLength(accepted.length);
    expect(report.totals.ordersAccepted).toBe(accepted.length);
    const orders = [...gateway.orders.values()];
    expect(new Set(orders.map((order) => order.key)).size).toBe(orders.length);
    expect(report.totals.cancelsAccepted).toBe(
      answers.filter((answer) => answer.route === 'POST /orders/:id/cancel' && answer.status === 202).length,
    );
    // The mix: declined tokens and orders for the low-stock SKU are among them.
    expect(orders.some((order) => order.paymentToken === 'tok_chargeDeclined')).toBe(true);
    expect(orders.some((order) => order.paymentToken === 'tok_chargeDeclinedInsufficientFunds')).toBe(true);
    expect(orders.some((order) => order.items.some((item) => item.sku === 'LOW-1'))).toBe(true);
    expect(orders.filter((order) => order.paymentToken === 'tok_visa').length).toBeGreaterThan(orders.length / 2);
  });

  it('open loop: latency runs from the intended start, so a stalled generator shows in it', async () => {
    // A 300 ms stall of the generator's own event loop (a GC pause, a busy CPU) when about the 50th of its 200 requests
    // arrives, from the stand-in, which shares the loop: the arrivals due meanwhile go out late, and measured from
    // when they were due, they are 0-300 ms slow. (A stall in the first per-second sample did not
    // always fall among the arrivals: one CI run saw no late arrival at all.)
    let stalled = false;
    const gateway = await start({
      onRequest: (arrived) => {
        if (stalled || arrived < 50) return;
        stalled = true;
        const until = performance.now() + 300;
        while (performance.now() < until);
      },
    });

    const report = await runLoad({
      gatewayUrl: gateway.url,
      mode: 'open',
      ratePerSecond: 100,
      durationSeconds: 2,
      customers: 2,
    });

    expect(stalled).toBe(true);
    expect(report.totals.started).toBe(200);
    expect(report.totals.maxMs).toBeGreaterThanOrEqual(250);
    expect(report.totals.p99Ms).toBeGreaterThanOrEqual(200);
    // The stand-in itself answers at once: measured from the actual send, every latency would be a few ms.
    expect(report.totals.p50Ms).toBeLessThan(50);
  });

  it('open loop: beyond maxInFlight an arrival is dropped and counted, never queued', async () => {
    const gateway = await start({
      listDelayMs: 200,
      productDelayMs: Object.fromEntries(PRODUCTS.map(({ sku }) => [sku, 200])),
    });

    const report = await runLoad({
      gatewayUrl: gateway.url,
      mode: 'open',
      ratePerSecond: 100,
      durationSeconds: 1,
      customers: 1,
      maxInFlight: 5,
      mix: { browse: 1, order: 0, cancel: 0 },
    });

    expect(gateway.maxInFlight).toBeLessThanOrEqual(5);
    expect(report.totals.dropped).toBeGreaterThan(50);
    expect((report.totals.started ?? 0) + report.totals.dropped).toBe(100);
    expect(report.totals.requests).toBe(report.totals.started);
    expect(report.totals.errors).toBe(0);
  });

  it('closed loop: each user waits for its answer before the next request', async () => {
    const gateway = await start({
      listDelayMs: 20,
      productDelayMs: Object.fromEntries(PRODUCTS.map(({ sku }) => [sku, 20])),
    });
    const handedOut: SecondSample[] = [];

    const report = await runLoad({
      gatewayUrl: gateway.url,
      mode: 'closed',
      users: 3,
      durationSeconds: 1,
      customers: 3,
      onSample: (sample) => handedOut.push(sample),
    });

    expect(gateway.maxInFlight).toBeLessThanOrEqual(3);
    expect(gateway.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(report.totals.requests).toBeGreaterThan(10);
    expect(report.totals.requests).toBe(report.totals.started);
    expect(report.totals.dropped).toBe(0);
    expect(report.totals.byStatus).toEqual(counts(workloadAnswers(gateway)));
    expectConsecutive(report, handedOut);
  });

  it('stops on the signal: no new arrivals, those in flight awaited, the report returned', async () => {
    const gateway = await start({ productDelayMs: Object.fromEntries(PRODUCTS.map(({ sku }) => [sku, 400])) });
    const stop = new AbortController();
    const handedOut: SecondSample[] = [];

    const report = await runLoad({
      gatewayUrl: gateway.url,
      mode: 'open',
      ratePerSecond: 50,
      durationSeconds: 60,
      customers: 2,
      mix: { browse: 1, order: 0, cancel: 0 },
      signal: stop.signal,
      onSample: (sample) => {
        handedOut.push(sample);
        stop.abort();
      },
    });

    // Stopped after the first second (about 50 arrivals), not after 60.
    expect(report.totals.started).toBeGreaterThan(0);
    expect(report.totals.started).toBeLessThan(100);
    expect(handedOut[0]?.inFlight).toBeGreaterThan(0);
    // Whatever was in flight when it stopped was answered and counted.
    expect(report.totals.requests).toBe(report.totals.started);
    expect(workloadAnswers(gateway)).toHaveLength(report.totals.requests);
    expectConsecutive(report, handedOut);
  });

  it('with a customers file, a later run reuses the customers and their tokens; only missing ones sign up', async () => {
    const gateway = await start();
    const dir = await mkdtemp(path.join(tmpdir(), 'load-customers-'));
    const customersFile = path.join(dir, 'customers.json');
    const run = (customers: number) =>
      runLoad({
        gatewayUrl: gateway.url,
        mode: 'open',
        ratePerSecond: 20,
        durationSeconds: 1,
        customers,
        customersFile,
        mix: { browse: 0, order: 100, cancel: 0 },
      });
    const auth = () =>
      gateway.answers
        .map((answer) => `${answer.route} ${answer.status}`)
        .filter((route) => route.startsWith('POST /auth/'));
    type Saved = { gatewayUrl: string; customers: Array<{ email: string; token: string; renewAt: number }> };
    const saved = async () => JSON.parse(await readFile(customersFile, 'utf8')) as Saved;

    const first = await run(3);
    expect(first.totals.ordersAccepted).toBe(20);
    expect(auth().filter((route) => route === 'POST /auth/register 201')).toHaveLength(3);
    expect(auth().filter((route) => route === 'POST /auth/login 200')).toHaveLength(3);
    const afterFirst = await saved();
    expect(afterFirst.customers).toHaveLength(3);
    expect((await stat(customersFile)).mode & 0o777).toBe(0o600);

    // Asking for one more than the file holds registers just that one.
    gateway.answers.length = 0;
    const second = await run(4);
    expect(second.totals.ordersAccepted).toBe(20);
    expect(second.totals.errors).toBe(0);
    expect(auth()).toEqual(['POST /auth/register 201', 'POST /auth/login 200']);
    const afterSecond = await saved();
    expect(afterSecond.customers.slice(0, 3)).toEqual(afterFirst.customers);
    expect(afterSecond.customers).toHaveLength(4);

    // Tokens due for renewal are renewed at first use, and the file gets the new ones.
    const due = { ...afterSecond, customers: afterSecond.customers.map((customer) => ({ ...customer, renewAt: 0 })) };
    await writeFile(customersFile, JSON.stringify(due));
    gateway.answers.length = 0;
    expect((await run(4)).totals.errors).toBe(0);
    expect(auth().filter((route) => route === 'POST /auth/register 201')).toHaveLength(0);
    const renewed = await saved();
    expect(renewed.customers.map((customer) => customer.email)).toEqual(
      afterSecond.customers.map((customer) => customer.email),
    );
    const loggedIn = auth().filter((route) => route === 'POST /auth/login 200').length;
    expect(loggedIn).toBeGreaterThan(0);
    expect(
      renewed.customers.filter((customer, index) => customer.token !== afterSecond.customers[index]?.token),
    ).toHaveLength(loggedIn);

    // Another gateway's customers (another stack's) are not used: they sign up anew.
    await writeFile(customersFile, JSON.stringify({ ...renewed, gatewayUrl: 'http://127.0.0.1:1/' }));
    gateway.answers.length = 0;
    await run(2);
    expect(auth().filter((route) => route === 'POST /auth/register 201')).toHaveLength(2);
    await rm(dir, { recursive: true });
  });

  it('signs up anew when the stack no longer knows the customers of its file (a reset since), logs in anew when only their tokens are refused', async () => {
    const gateway = await start();
    const dir = await mkdtemp(path.join(tmpdir(), 'load-customers-'));
    const customersFile = path.join(dir, 'customers.json');
    const run = () =>
      runLoad({
        gatewayUrl: gateway.url,
        mode: 'open',
        ratePerSecond: 20,
        durationSeconds: 1,
        customers: 2,
        customersFile,
        mix: { browse: 0, order: 100, cancel: 0 },
      });
    type Saved = { gatewayUrl: string; customers: Array<{ email: string; token: string; renewAt: number }> };
    const saved = async () => JSON.parse(await readFile(customersFile, 'utf8')) as Saved;
    const setUp = () =>
      gateway.answers
        .map((answer) => `${answer.route} ${answer.status}`)
        .filter((route) => route.startsWith('POST /auth/') || route.startsWith('GET /me'));
    await run();
    const { gatewayUrl } = await saved();
    // Customers of this gateway's URL that the stack does not know, as after its databases were dropped.
    const forgotten = (renewAt: number) => ({
      gatewayUrl,
      customers: [1, 2].map((n) => ({
        email: `forgotten-${n}@example.test`,
        password: `pw-forgotten-${n}`,
        token: `token-of-an-earlier-stack-${n}`,
        renewAt,
      })),
    });

    // Tokens not yet due: GET /me answers 401, and two customers sign up; no order is refused.
    await writeFile(customersFile, JSON.stringify(forgotten(Date.now() + 600_000)));
    gateway.answers.length = 0;
    const afterReset = await run();
    expect(afterReset.totals).toMatchObject({ errors: 0, ordersAccepted: 20 });
    // The customer's own log-in is refused too; the two sign-ups run side by side (their order varies).
    expect(setUp().slice(0, 2)).toEqual(['GET /me 401', 'POST /auth/login 401']);
    expect(setUp().slice(2).sort()).toEqual([
      'POST /auth/login 200',
      'POST /auth/login 200',
      'POST /auth/register 201',
      'POST /auth/register 201',
    ]);
    const signedUp = await saved();
    expect(signedUp.customers.map((customer) => customer.email)).not.toContain('forgotten-1@example.test');

    // Tokens due for renewal: the log-in answers 401, and the same follows.
    await writeFile(customersFile, JSON.stringify(forgotten(0)));
    gateway.answers.length = 0;
    expect((await run()).totals).toMatchObject({ errors: 0, ordersAccepted: 20 });
    expect(setUp()[0]).toBe('POST /auth/login 401');
    expect(setUp().filter((route) => route === 'POST /auth/register 201')).toHaveLength(2);
    expect((await saved()).customers.map((customer) => customer.email)).not.toContain('forgotten-1@example.test');

    // Known customers whose tokens the stack refuses (it signs with another key since): each logs in
    // anew before its first order, none signs up, and the file gets the new tokens.
    const { customers } = await saved();
    const refused = customers.map((customer, n) => ({ ...customer, token: `token-of-another-key-${n}` }));
    await writeFile(customersFile, JSON.stringify({ gatewayUrl, customers: refused }));
    gateway.answers.length = 0;
    expect((await run()).totals).toMatchObject({ errors: 0, ordersAccepted: 20 });
    expect(setUp()).toEqual(['GET /me 401', 'POST /auth/login 200', 'POST /auth/login 200']);
    const renewed = await saved();
    expect(renewed.customers.map((customer) => customer.email)).toEqual(customers.map((customer) => customer.email));
    expect(renewed.customers.filter((customer, n) => customer.token === refused[n]?.token)).toEqual([]);
    await rm(dir, { recursive: true });
  });

  it('fails with the reason when the catalog cannot be read', async () => {
    const gateway = await start({ catalogDown: true });
    await expect(
      runLoad({ gatewayUrl: gateway.url, mode: 'open', ratePerSecond: 10, durationSeconds: 1 }),
    ).rejects.toThrow('load: GET /products: still 503 after 5 attempts (inventory unavailable)');
    expect(gateway.answers.filter((answer) => answer.route === 'GET /products')).toHaveLength(5);
  });
});

describe('readBreakers', () => {
  it('reads the breaker states of a ready service', async () => {
    const gateway = await start({
      ready: { status: 200, breakers: { 'order-service': 'closed', 'inventory-service': 'open' } },
    });
    expect(await readBreakers(gateway.url, 1_000)).toEqual({
      'order-service': 'closed',
      'inventory-service': 'open',
    });
  });

  it('reads them from a 503 problem+json readiness answer too', async () => {
    const gateway = await start({ ready: { status: 503, breakers: { 'payment-provider': 'half-open' } } });
    expect(await readBreakers(gateway.url, 1_000)).toEqual({ 'payment-provider': 'half-open' });
  });

  it('says unreachable when nothing answers', async () => {
    const gateway = await start();
    const url = gateway.url;
    await gateway.stop();
    standIn = undefined;
    expect(await readBreakers(url, 1_000)).toBe('unreachable');
  });
});
