import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { serviceDatabase, settledAudit, stackEnv } from './e2e-support';
import { ShopClient } from './shop-client';

/**
 * Bad input at the public door: every malformed request gets the right 4xx
 * as problem+json, never a 5xx, and nothing is written anywhere (the event
 * stores of every service are unchanged afterwards).
 */
interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** A string is sent as it is (bad JSON); anything else as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Send without the user's token. */
  readonly anonymous?: boolean;
  readonly status: number;
  /** A validation failure names what is wrong in `errors`. */
  readonly errors?: boolean;
}

const line = (sku: string, quantity: unknown) => ({ sku, quantity });
const order = (items: unknown, extra: Record<string, unknown> = {}) => ({ items, paymentToken: 'tok_visa', ...extra });
const key = () => ({ 'idempotency-key': randomUUID() });

const CASES: readonly Case[] = [
  { name: 'bad JSON', method: 'POST', path: '/orders', body: '{"items": [', headers: key(), status: 400 },
  { name: 'a JSON string', method: 'POST', path: '/orders', body: '"items"', headers: key(), status: 400 },
  { name: 'a JSON array', method: 'POST', path: '/orders', body: [], headers: key(), status: 400, errors: true },
  { name: 'empty object', method: 'POST', path: '/orders', body: {}, headers: key(), status: 400, errors: true },
  { name: 'no items', method: 'POST', path: '/orders', body: order([]), headers: key(), status: 400, errors: true },
  {
    name: 'items not an array',
    method: 'POST',
    path: '/orders',
    body: order('MUG-001'),
    headers: key(),
    status: 400,
    errors: true,
  },
  ...[0, 101, 1.5, -1, '2', null].map((quantity) => ({
    name: `quantity ${JSON.stringify(quantity)}`,
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', quantity)]),
    headers: key(),
    status: 400,
    errors: true,
  })),
  {
    name: '51 lines',
    method: 'POST',
    path: '/orders',
    body: order(Array.from({ length: 51 }, (_, index) => line(`SKU-${index}`, 1))),
    headers: key(),
    status: 400,
    errors: true,
  },
  {
    name: 'the same SKU twice',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1), line('MUG-001', 2)]),
    headers: key(),
    status: 400,
  },
  {
    name: 'an unknown field',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1)], { discount: 100 }),
    headers: key(),
    status: 400,
    errors: true,
  },
  {
    name: 'an unknown field in a line',
    method: 'POST',
    path: '/orders',
    body: order([{ sku: 'MUG-001', quantity: 1, priceCents: 1 }]),
    headers: key(),
    status: 400,
    errors: true,
  },
  {
    name: 'an unknown payment token',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1)], { paymentToken: 'tok_free' }),
    headers: key(),
    status: 400,
  },
  {
    name: 'a __proto__ payload',
    method: 'POST',
    path: '/orders',
    body: '{"items":[{"sku":"MUG-001","quantity":1}],"paymentToken":"tok_visa","__proto__":{"admin":true}}',
    headers: key(),
    status: 400,
  },
  {
    name: 'a constructor.prototype payload',
    method: 'POST',
    path: '/orders',
    body: '{"items":[{"sku":"MUG-001","quantity":1}],"paymentToken":"tok_visa","constructor":{"prototype":{"admin":true}}}',
    headers: key(),
    status: 400,
  },
  {
    name: 'no Idempotency-Key',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1)]),
    status: 400,
  },
  {
    name: 'a body over 64 KiB',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1)], { note: 'x'.repeat(70 * 1024) }),
    headers: key(),
    status: 413,
  },
  {
    name: 'text/plain',
    method: 'POST',
    path: '/orders',
    body: JSON.stringify(order([line('MUG-001', 1)])),
    headers: { ...key(), 'content-type': 'text/plain' },
    status: 415,
  },
  {
    name: 'form data',
    method: 'POST',
    path: '/auth/register',
    body: 'email=a@example.test&password=12345678&name=A',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    anonymous: true,
    status: 415,
  },
  {
    name: 'no token',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1)]),
    headers: key(),
    anonymous: true,
    status: 401,
  },
  {
    name: 'a forged token',
    method: 'POST',
    path: '/orders',
    body: order([line('MUG-001', 1)]),
    headers: { ...key(), authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
    anonymous: true,
    status: 401,
  },
  { name: 'a malformed order id', method: 'GET', path: '/orders/not-a-uuid', status: 404 },
  { name: 'cancel of a malformed order id', method: 'POST', path: '/orders/1%27%20or%201=1/cancel', status: 404 },
  { name: 'limit 0', method: 'GET', path: '/orders?limit=0', status: 400 },
  { name: 'limit 101', method: 'GET', path: '/orders?limit=101', status: 400 },
  { name: 'a garbage cursor', method: 'GET', path: '/orders?cursor=%00%ff', status: 400 },
  {
    name: 'register with a short password',
    method: 'POST',
    path: '/auth/register',
    body: { email: `x-${randomUUID()}@example.test`, password: 'short', name: 'X' },
    anonymous: true,
    status: 400,
    errors: true,
  },
  {
    name: 'register with an unknown field',
    method: 'POST',
    path: '/auth/register',
    body: { email: `x-${randomUUID()}@example.test`, password: 'long-enough', name: 'X', role: 'admin' },
    anonymous: true,
    status: 400,
    errors: true,
  },
  {
    name: 'login with a wrong type',
    method: 'POST',
    path: '/auth/login',
    body: { email: ['a@example.test'], password: 1 },
    anonymous: true,
    status: 400,
    errors: true,
  },
];

/**
 * Events in the stores the gateway's requests can reach (user and order
 * directly, inventory through a reservation): "nothing written" is checked
 * against these.
 */
async function writtenRows(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const service of ['user', 'order', 'inventory']) {
    const client = new pg.Client({ connectionString: serviceDatabase(service) });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>('select count(*) from events');
      counts[service] = Number(rows[0]?.count);
    } finally {
      await client.end();
    }
  }
  return counts;
}

describe('malformed requests (e2e, through the gateway)', () => {
  let client: ShopClient;

  beforeAll(async () => {
    client = await ShopClient.fromEnv().signUp();
  }, 60_000);

  it(`answers ${CASES.length} malformed requests with the right 4xx problem+json and writes nothing`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    const before = await writtenRows();
    const outcomes = [];
    for (const testCase of CASES) {
      const headers: Record<string, string> = { ...testCase.headers };
      const response = await (
        testCase.anonymous ? new ShopClient(`${stackEnv('GATEWAY_URL')}/api/v1`) : client
      ).request(testCase.method, testCase.path, testCase.body, headers);
      const text = await response.text();
      const problem = (() => {
        try {
          return JSON.parse(text) as { status?: number; title?: string; errors?: unknown[] };
        } catch {
          return undefined;
        }
      })();
      outcomes.push({
        name: testCase.name,
        status: response.status,
        problemJson: response.headers.get('content-type')?.startsWith('application/problem+json') ?? false,
        bodyStatus: problem?.status,
        hasErrors: Array.isArray(problem?.errors) && problem.errors.length > 0,
        leaks: /at \w+ \(|node_modules|select |insert |127\.0\.0\.1|localhost/i.test(text),
      });
    }
    expect(outcomes).toEqual(
      CASES.map((testCase) => ({
        name: testCase.name,
        status: testCase.status,
        problemJson: true,
        bodyStatus: testCase.status,
        hasErrors: testCase.errors ?? expect.any(Boolean),
        leaks: false,
      })),
    );

    expect(await writtenRows()).toEqual(before);
    const orders = (await (await client.request('GET', '/orders')).json()) as { items: unknown[] };
    expect(orders.items).toEqual([]);
    // Nothing of this user's reached the stores; the stack as a whole still holds its invariants.
    expect((await settledAudit([])).violations).toEqual([]);
  }, 60_000);
});
