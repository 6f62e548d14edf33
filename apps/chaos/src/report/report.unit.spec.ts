import type { RunRecord } from '../experiments/runner';
import type { SecondSample } from '../load/types';
import { reportMarkdown } from './markdown';
import { buildReport, recoverySeconds, splitByWindows } from './report';

const T0 = 1_700_000_000_000;

function sample(second: number, errors: number, requests = 10): SecondSample {
  return {
    second,
    at: T0 + second * 1000,
    requests,
    errors,
    dropped: 0,
    byStatus: { '200': requests - errors, '503': errors },
    p50Ms: 5,
    p99Ms: 50,
    ordersAccepted: 2,
  };
}

/** 40 s of load: errors from second 10 to 21 (the fault is 10–20 s, the system needs 2 s more). */
const samples = Array.from({ length: 40 }, (_, second) => sample(second, second >= 10 && second < 22 ? 4 : 0));

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    title: 'provider outage',
    startedAt: T0 - 5_000,
    finishedAt: T0 + 60_000,
    phases: [
      { phase: 'before', startedAt: T0 - 5_000, endedAt: T0 },
      { phase: 'load', startedAt: T0, endedAt: T0 + 40_000 },
    ],
    before: [{ name: 'ready', func: 'all_ready', value: true, ok: true, at: T0 }],
    methodProbes: [],
    after: [{ name: 'ready', func: 'all_ready', value: true, ok: true, at: T0 + 55_000 }],
    faults: [
      {
        name: 'outage',
        kind: 'http_faults',
        description: 'payment-provider: outage',
        startedAt: T0 + 10_000,
        endedAt: T0 + 20_000,
      },
    ],
    rollbacks: [],
    load: {
      options: { gatewayUrl: 'http://127.0.0.1:3000', mode: 'open', ratePerSecond: 10, durationSeconds: 40 },
      samples,
      totals: {
        requests: 400,
        errors: 48,
        dropped: 0,
        byStatus: { '200': 352, '503': 48 },
        p50Ms: 5,
        p99Ms: 50,
        maxMs: 90,
        ordersAccepted: 80,
        cancelsAccepted: 0,
      },
      orderIds: ['o-1', 'o-2'],
    },
    loadError: undefined,
    quiet: { ok: true, waitedMs: 3000, pending: 0, pendingOutbox: 0 },
    audit: {
      violations: [],
      counts: {
        orders: { CONFIRMED: 70, REJECTED: 10 },
        skus: 3,
        stock: {},
        capturedCents: 7000,
        refundedCents: 0,
        streamsChecked: 80,
        pendingOutbox: 0,
      },
    },
    orderIds: ['o-1', 'o-2', 'p-1'],
    aborted: false,
    verdict: { ok: true, reasons: [] },
    ...overrides,
  };
}

const experiment = { title: 'provider outage', description: 'the processor is down', tags: ['http'] };

describe('run report', () => {
  it('counts requests and errors before, during and after the fault window', () => {
    const report = buildReport('provider-outage', experiment, 'shop', record());
    expect(report.requests.beforeFault).toEqual({ seconds: 10, requests: 100, errors: 0 });
    expect(report.requests.duringFault).toEqual({ seconds: 10, requests: 100, errors: 40 });
    expect(report.requests.afterFault).toEqual({ seconds: 20, requests: 200, errors: 8 });
    expect(report.faults).toEqual([expect.objectContaining({ name: 'outage', fromSecond: 10, toSecond: 20 })]);
    expect(report.ordersAudited).toBe(3);
  });

  it('measures recovery from the rollback to the first of 5 error-free seconds', () => {
    expect(buildReport('provider-outage', experiment, 'shop', record()).recoverySeconds).toBe(2);
    // A second with an error inside the 5 restarts the count.
    const flapping = samples.map((one) => (one.second === 24 ? sample(24, 1) : one));
    expect(recoverySeconds(flapping, T0 + 20_000)).toBe(5);
    // Clean from the second that holds the rollback on: 0.
    expect(
      recoverySeconds(
        samples.map((one) => sample(one.second, 0)),
        T0 + 20_500,
      ),
    ).toBe(0);
    // Never 5 clean seconds before the load ends.
    expect(
      recoverySeconds(
        samples.map((one) => sample(one.second, one.second >= 10 && one.second < 37 ? 1 : 0)),
        T0 + 20_000,
      ),
    ).toBeNull();
  });

  it('puts a second that overlaps a window partly into "during"', () => {
    const parts = splitByWindows(samples, [{ startedAt: T0 + 10_500, endedAt: T0 + 12_200 }]);
    expect(parts.during.map((one) => one.second)).toEqual([10, 11, 12]);
    expect(parts.before.at(-1)?.second).toBe(9);
    expect(parts.after[0]?.second).toBe(13);
  });

  it('writes a markdown report with the verdict, the chart, the counts and the violations', () => {
    const failed = record({
      verdict: { ok: false, reasons: ['invariant 3: order o-1 captured twice'] },
      audit: {
        violations: ['invariant 3: order o-1 captured twice'],
        counts: {
          orders: { CONFIRMED: 2 },
          skus: 1,
          stock: {},
          capturedCents: 200,
          refundedCents: 0,
          streamsChecked: 2,
          pendingOutbox: 0,
        },
      },
    });
    const markdown = reportMarkdown(buildReport('provider-outage', experiment, 'shop', failed), 'provider-outage.svg');
    expect(markdown).toMatch(/^# provider outage\n\n\*\*FAILED\*\*/);
    expect(markdown).toContain(
      '![throughput, error rate and p99 over time, fault windows shaded](provider-outage.svg)',
    );
    expect(markdown).toContain('| during the faults | 10 | 100 | 40 | 40.0% |');
    expect(markdown).toContain('**Recovery time:** 2 s');
    expect(markdown).toContain('| orders CONFIRMED | 2 |');
    expect(markdown).toContain('- VIOLATION invariant 3: order o-1 captured twice');
  });

  it('reports a run without load (steady state failed before) without inventing numbers', () => {
    const report = buildReport(
      'x',
      experiment,
      'shop',
      record({ load: undefined, faults: [], audit: undefined, quiet: undefined }),
    );
    expect(report.requests.total).toBe(0);
    expect(report.recoverySeconds).toBeNull();
    expect(reportMarkdown(report, 'x.svg')).toContain('The audit did not run.');
  });
});
