import { Counter, Gauge, register } from 'prom-client';

export type BreakerState = 'closed' | 'half-open' | 'open';

export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

type Label = 'policy';

/**
 * Every policy of the process shares these metrics on prom-client's default
 * registry, told apart by the `policy` label. Each attempt counts once, as
 * exactly one of success, failure, timeout, bulkhead rejection or short-circuit.
 */
export interface PolicyMetrics {
  readonly state: Gauge<Label>;
  readonly successes: Counter<Label>;
  readonly failures: Counter<Label>;
  readonly timeouts: Counter<Label>;
  readonly bulkheadRejections: Counter<Label>;
  readonly shortCircuits: Counter<Label>;
  readonly fallbacks: Counter<Label>;
  readonly retries: Counter<Label>;
}

export function policyMetrics(): PolicyMetrics {
  return {
    state: gauge('resilience_breaker_state', 'Breaker state per policy: 0 closed, 1 half-open, 2 open.'),
    successes: counter('resilience_successes_total', 'Attempts that succeeded.'),
    failures: counter('resilience_failures_total', 'Attempts whose call threw.'),
    timeouts: counter('resilience_timeouts_total', 'Attempts aborted after the timeout.'),
    bulkheadRejections: counter(
      'resilience_bulkhead_rejections_total',
      'Attempts refused because the bulkhead was full.',
    ),
    shortCircuits: counter('resilience_short_circuits_total', 'Attempts refused because the breaker was open.'),
    fallbacks: counter('resilience_fallbacks_total', 'Failed calls answered with a cached (stale) value.'),
    retries: counter('resilience_retries_total', 'Retries of idempotent calls.'),
  };
}

// prom-client throws when a name is registered twice: the first policy creates a metric, the others reuse it.
function counter(name: string, help: string): Counter<Label> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name, help, labelNames: ['policy'] });
}

function gauge(name: string, help: string): Gauge<Label> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Gauge) return existing;
  return new Gauge({ name, help, labelNames: ['policy'] });
}
