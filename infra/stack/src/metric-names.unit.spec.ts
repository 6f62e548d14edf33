import {
  dashboardExpressions,
  exposedMetricNames,
  metricNames,
  metricNamesInUse,
  readDashboards,
  readRules,
} from './metric-names.ts';

describe('metricNames', () => {
  it.each([
    ['up', ['up']],
    [
      'sum by (job, route) (rate(http_server_request_duration_seconds_count{job=~"$job", route!~"/health/.*"}[$__rate_interval]))',
      ['http_server_request_duration_seconds_count'],
    ],
    [
      'histogram_quantile(0.99, sum by (le) (rate(outbox_relay_lag_seconds_bucket[5m])))',
      ['outbox_relay_lag_seconds_bucket'],
    ],
    [
      'sum(rate(a_total{x="sum(b)"}[5m])) / (sum(rate(c_total[5m])) + sum(rate(a_total[5m]))) > (14.4 * 0.005)',
      ['a_total', 'c_total'],
    ],
    [
      'slo:orders:ratio_rate1h > 1e3 and on (job) rate(x_total[1h] offset 5m) > 0',
      ['slo:orders:ratio_rate1h', 'x_total'],
    ],
    ['max by (policy) (resilience_breaker_state) or vector(0) unless bool inf', ['resilience_breaker_state']],
    ['min_over_time(messaging_consumer_lag{job="a"}[15m:1m]) > 0', ['messaging_consumer_lag']],
  ])('%s', (expr, expected) => {
    expect(metricNames(expr).sort()).toEqual([...expected].sort());
  });
});

describe('the dashboards and rules as read', () => {
  it('find at least one metric in every expression', () => {
    const empty = [
      ...readDashboards().flatMap(({ file, dashboard }) =>
        dashboardExpressions(dashboard)
          .filter(({ expr }) => metricNames(expr).length === 0)
          .map(({ where }) => `${file} ${where}`),
      ),
      ...readRules().groups.flatMap((group) =>
        group.rules.filter((rule) => metricNames(rule.expr).length === 0).map((rule) => rule.record ?? rule.alert),
      ),
    ];
    expect(empty).toEqual([]);
  });

  it('name metrics, never recorded series or PromQL words', () => {
    const names = [...metricNamesInUse().keys()];
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !/^[a-z][a-z0-9_]*$/.test(name))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining(['http_server_request_duration_seconds_bucket', 'resilience_breaker_state']),
    );
  });
});

describe('exposedMetricNames', () => {
  it('offers typed metrics before their first sample, with histogram and summary series', () => {
    const names = exposedMetricNames(
      [
        '# HELP resilience_failures_total Attempts whose call threw.',
        '# TYPE resilience_failures_total counter',
        '# TYPE http_server_request_duration_seconds histogram',
        'http_server_request_duration_seconds_bucket{le="0.5",route="/x"} 3',
        '# TYPE nodejs_gc_duration_seconds summary',
        'process_cpu_seconds_total 1.5',
      ].join('\n'),
    );
    expect([...names].sort()).toEqual(
      [
        'http_server_request_duration_seconds',
        'http_server_request_duration_seconds_bucket',
        'http_server_request_duration_seconds_count',
        'http_server_request_duration_seconds_sum',
        'nodejs_gc_duration_seconds',
        'nodejs_gc_duration_seconds_count',
        'nodejs_gc_duration_seconds_sum',
        'process_cpu_seconds_total',
        'resilience_failures_total',
      ].sort(),
    );
  });
});
