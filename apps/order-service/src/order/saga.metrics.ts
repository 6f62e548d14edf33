import { Counter, Histogram, register } from 'prom-client';
import type { OrderState } from './order.decider';

function metric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

const ended = metric(
  'saga_orders_ended_total',
  () =>
    new Counter({
      name: 'saga_orders_ended_total',
      help: 'Orders that reached a terminal status, by status and reason',
      labelNames: ['status', 'reason'],
    }),
);

const duration = metric(
  'saga_duration_seconds',
  () =>
    new Histogram({
      name: 'saga_duration_seconds',
      help: 'From an order being accepted to its terminal status (the saga clock: the events’ own times)',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
);

const TERMINAL = new Set(['CONFIRMED', 'REJECTED', 'CANCELLED']);

/**
 * Counts an order that just reached a terminal status (or moved from one to
 * another, as a cancelled confirmed order does). Prometheus counters are not
 * transactional: a decision whose transaction then rolls back and is retried
 * counts twice, which the dashboards tolerate.
 */
export function recordSagaOutcome(before: OrderState, after: OrderState): void {
  if (before.status === after.status || !TERMINAL.has(after.status)) return;
  ended.inc({ status: after.status, reason: after.reason ?? 'NONE' });
  const seconds = (Date.parse(after.updatedAt) - Date.parse(after.createdAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) duration.observe({ status: after.status }, seconds);
}
