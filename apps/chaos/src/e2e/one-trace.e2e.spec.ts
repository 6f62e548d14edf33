import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { waitFor } from '@shop/testing';
import { serviceDatabase, settledAudit, stackEnv } from './e2e-support';
import { ShopClient } from './shop-client';

/**
 * One order is one trace: the trace the client starts at the gateway crosses
 * HTTP (gateway → order-service), Kafka (order-service's outbox → the saga
 * commands), and reaches the database writes of the services that consume
 * them, whose own outbox rows are written under the same trace id, and the
 * card processor that payment-service calls. `npm test` has every app export
 * its spans to a small OTLP receiver that writes them to TEST_SPANS_FILE.
 */
const ORDER_PATH = ['gateway', 'order-service', 'inventory-service', 'payment-service', 'payment-provider'];
const SERVER = 2; // OTLP SpanKind

interface RecordedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly kind: number;
}

function spansOfTrace(traceId: string): RecordedSpan[] {
  return readFileSync(stackEnv('TEST_SPANS_FILE'), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as RecordedSpan)
    .filter((span) => span.traceId === traceId);
}

async function tracesOfOutbox(service: string, orderId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: serviceDatabase(service) });
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

    // The exported spans: every process on the order's path took part in the one trace, and the
    // card processor's server span is a child of a span of payment-service (propagated, not guessed).
    const spans = await waitFor(
      'spans of every process on the order path',
      async () => {
        const found = spansOfTrace(traceId);
        const services = new Set(found.map((span) => span.service));
        return ORDER_PATH.every((service) => services.has(service)) ? found : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const charge = spans.find((span) => span.service === 'payment-provider' && span.kind === SERVER);
    expect(charge && byId.get(charge.parentSpanId ?? '')?.service).toBe('payment-service');
    const entry = spans.find((span) => span.service === 'order-service' && span.kind === SERVER);
    expect(entry && byId.get(entry.parentSpanId ?? '')?.service).toBe('gateway');
    expect((await settledAudit([orderId])).violations).toEqual([]);
  }, 60_000);
});
