import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { waitFor } from '@shop/testing';
import { ShopClient } from './shop-client';

/**
 * One order is one trace: the trace the client starts at the gateway crosses
 * HTTP (gateway → order-service), Kafka (order-service's outbox → the saga
 * commands), and reaches the database writes of the services that consume
 * them, whose own outbox rows are written under the same trace id.
 */
function database(service: string): string {
  const adminUrl = process.env['TEST_ADMIN_DATABASE_URL'];
  const stackId = process.env['STACK_ID'];
  if (!adminUrl || !stackId) throw new Error('run the e2e tests through `npm test`');
  const url = new URL(adminUrl);
  url.pathname = `/${stackId}_${service}`;
  return url.toString();
}

async function tracesOfOutbox(service: string, orderId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: database(service) });
  await client.connect();
  try {
    const { rows } = await client.query<{ traceparent: string | null }>(
      'select traceparent from outbox where key = $1 order by id',
      [orderId],
    );
    return rows.map((row) => row.traceparent?.split('-')[1] ?? 'none');
  } finally {
    await client.end();
  }
}

describe('tracing across processes (e2e)', () => {
  it('carries the caller’s trace id from the gateway through Kafka into every service’s writes', async () => {
    const client = await ShopClient.fromEnv().signUp();
    const traceId = randomBytes(16).toString('hex');
    const response = await client.request(
      'POST',
      '/orders',
      { items: [{ sku: 'STICKER-001', quantity: 1 }], paymentToken: 'tok_visa' },
      {
        'idempotency-key': randomBytes(8).toString('hex'),
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
    );
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };
    await waitFor('the order to be confirmed', async () => (await client.order(orderId)).status === 'CONFIRMED', {
      timeoutMs: 30_000,
    });

    // order-service wrote its commands under the trace (HTTP hop), inventory and payment
    // wrote their replies while handling those commands (Kafka hop, then their database).
    for (const service of ['order', 'inventory', 'payment']) {
      const traces = await waitFor(`${service}'s outbox rows`, async () => {
        const found = await tracesOfOutbox(service, orderId);
        return found.length > 0 ? found : undefined;
      });
      expect({ service, traces: [...new Set(traces)] }).toEqual({ service, traces: [traceId] });
    }
  }, 60_000);
});
