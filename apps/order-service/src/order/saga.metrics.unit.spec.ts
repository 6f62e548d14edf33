import { register } from 'prom-client';
import { orderDecider, type OrderState } from './order.decider';
import { recordSagaOutcome } from './saga.metrics';

const state = (overrides: Partial<OrderState>): OrderState => ({ ...orderDecider.initialState(), ...overrides });

/** The sum of a metric's samples with these labels (`name` may be a histogram's `_bucket` series). */
async function value(name: string, labels: Record<string, string>): Promise<number> {
  const metric = register.getSingleMetric(name.replace(/_bucket$/, ''));
  const { values } = (await metric?.get()) ?? { values: [] };
  return values
    .filter((sample) => ((sample as { metricName?: string }).metricName ?? name) === name)
    .filter((sample) => Object.entries(labels).every(([key, wanted]) => String(sample.labels[key]) === wanted))
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('saga metrics', () => {
  const placed = state({
    status: 'PENDING',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });

  it('counts an order once, when it reaches a terminal status, with its reason and duration', async () => {
    const before = await value('saga_orders_ended_total', { status: 'REJECTED', reason: 'OUT_OF_STOCK' });
    const rejected = {
      ...placed,
      status: 'REJECTED' as const,
      reason: 'OUT_OF_STOCK' as const,
      updatedAt: '2026-01-01T00:00:00.300Z',
    };
    recordSagaOutcome(placed, rejected);
    recordSagaOutcome(rejected, rejected);
    expect(await value('saga_orders_ended_total', { status: 'REJECTED', reason: 'OUT_OF_STOCK' })).toBe(before + 1);
    // 0.3 s falls in the 0.5 s bucket, not in the 0.25 s one.
    expect(await value('saga_duration_seconds_bucket', { status: 'REJECTED', le: '0.25' })).toBe(0);
    expect(await value('saga_duration_seconds_bucket', { status: 'REJECTED', le: '0.5' })).toBe(1);
  });

  it('does not count a step that leaves the order pending', async () => {
    const before = await value('saga_orders_ended_total', {});
    recordSagaOutcome(placed, { ...placed, stockReserved: true });
    expect(await value('saga_orders_ended_total', {})).toBe(before);
  });

  it('counts a confirmed order that is cancelled as ended again, by customer', async () => {
    const confirmed = { ...placed, status: 'CONFIRMED' as const };
    recordSagaOutcome(confirmed, { ...confirmed, status: 'CANCELLED', reason: 'CANCELLED_BY_CUSTOMER' });
    expect(await value('saga_orders_ended_total', { status: 'CANCELLED', reason: 'CANCELLED_BY_CUSTOMER' })).toBe(1);
  });
});
