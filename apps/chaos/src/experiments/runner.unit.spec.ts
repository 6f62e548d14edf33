import type { AuditReport } from '../audit/invariants';
import type { Fault } from '../faults/fault';
import type { LoadOptions, LoadReport, RunLoad, SecondSample } from '../load/types';
import { runExperiment, type RunnerDeps, withinTolerance } from './runner';
import { parseExperiment, type ActionActivity, type ProbeActivity } from './schema';

const action = (name: string, func: string, args: Record<string, unknown>, pauses?: object) => ({
  type: 'action',
  name,
  provider: { type: 'python', module: 'chaosshop.actions', func, arguments: args },
  ...(pauses ? { pauses } : {}),
});
const probe = (name: string, func: string, args: Record<string, unknown>, tolerance: unknown, pauses?: object) => ({
  type: 'probe',
  name,
  provider: { type: 'python', module: 'chaosshop.probes', func, arguments: args },
  tolerance,
  ...(pauses ? { pauses } : {}),
});

/** Two faults: a slow provider rolled back inside the method, and an outage left to the rollbacks. */
const experiment = parseExperiment({
  title: 'two faults',
  description: 'test',
  tags: ['test'],
  extensions: [{ name: 'shop', load: { mode: 'open', ratePerSecond: 5, durationSeconds: 60 }, quietTimeoutS: 10 }],
  'steady-state-hypothesis': { title: 'ready', probes: [probe('ready', 'all_ready', {}, true)] },
  method: [
    action('slow', 'http_faults', { service: 'payment-provider', latencyMs: 3000 }, { before: 10, after: 5 }),
    probe(
      'breaker opens',
      'breaker_state',
      { service: 'payment-service', breaker: 'payment-provider', within_s: 10 },
      'open',
    ),
    action('end slow', 'rollback', { action: 'slow' }),
    action('outage', 'http_faults', { service: 'payment-provider', outage: true }, { after: 20 }),
  ],
  rollbacks: [
    action('end outage', 'rollback', { action: 'outage' }),
    action('end slow too', 'rollback', { action: 'slow' }),
  ],
});

function sample(second: number, at: number): SecondSample {
  return {
    second,
    at,
    requests: 5,
    errors: 0,
    dropped: 0,
    byStatus: { '200': 5 },
    p50Ms: 5,
    p99Ms: 9,
    ordersAccepted: 1,
  };
}

function loadReport(options: LoadOptions, orderIds: string[]): LoadReport {
  const { signal: _signal, onSample: _onSample, ...rest } = options;
  return {
    options: rest,
    samples: [],
    totals: {
      requests: 0,
      errors: 0,
      dropped: 0,
      byStatus: {},
      p50Ms: 0,
      p99Ms: 0,
      maxMs: 0,
      ordersAccepted: 0,
      cancelsAccepted: 0,
    },
    orderIds,
  };
}

function auditReport(pending: number, violations: string[] = []): AuditReport {
  return {
    violations,
    counts: {
      orders: pending ? { PENDING: pending, CONFIRMED: 3 } : { CONFIRMED: 5 },
      skus: 1,
      stock: {},
      capturedCents: 0,
      refundedCents: 0,
      streamsChecked: 0,
      pendingOutbox: pending ? 1 : 0,
    },
  };
}

interface Harness {
  deps: RunnerDeps;
  events: string[];
  controller: AbortController;
  loadOptions: LoadOptions[];
  audited: Array<readonly string[]>;
}

/**
 * Fakes for every effect, writing one line per call to `events`; the clock is
 * a number that the fake sleep moves forward, so pauses take no real time.
 */
function harness(
  overrides: {
    probe?: (activity: ProbeActivity, calls: number) => unknown;
    inject?: (name: string) => void;
    audits?: AuditReport[];
    loadUntilAbort?: boolean;
  } = {},
): Harness {
  let clock = 1_000_000;
  const events: string[] = [];
  const controller = new AbortController();
  const loadOptions: LoadOptions[] = [];
  const audited: Array<readonly string[]> = [];
  const audits = [...(overrides.audits ?? [auditReport(0)])];
  const probeCalls = new Map<string, number>();
  const runLoad: RunLoad = async (options) => {
    loadOptions.push(options);
    events.push('load start');
    options.onSample?.(sample(0, clock));
    if (overrides.loadUntilAbort) {
      await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve()));
      events.push('load aborted');
    }
    return loadReport(options, ['order-1', 'order-2']);
  };
  const createFault = (activity: ActionActivity): Fault => ({
    kind: activity.provider.func,
    description: activity.name,
    async inject() {
      events.push(`inject ${activity.name}`);
      overrides.inject?.(activity.name);
    },
    async rollback() {
      events.push(`rollback ${activity.name}`);
    },
  });
  const deps: RunnerDeps = {
    runLoad,
    createFault,
    runProbe: async (activity) => {
      const calls = (probeCalls.get(activity.name) ?? 0) + 1;
      probeCalls.set(activity.name, calls);
      events.push(`probe ${activity.name}`);
      return overrides.probe
        ? overrides.probe(activity, calls)
        : activity.provider.func === 'all_ready'
          ? true
          : 'open';
    },
    audit: async (orderIds) => {
      audited.push(orderIds);
      events.push('audit');
      return audits.length > 1 ? (audits.shift() as AuditReport) : (audits[0] as AuditReport);
    },
    probeOrderIds: () => ['probe-order'],
    gatewayUrl: 'http://127.0.0.1:3000',
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new Error('aborted');
      events.push(`sleep ${ms}`);
      clock += ms;
    },
    now: () => clock,
    log: () => undefined,
    signal: controller.signal,
  };
  return { deps, events, controller, loadOptions, audited };
}

describe('runExperiment', () => {
  it('runs steady state, load and method, rollbacks, quiet, steady state and audit, in that order', async () => {
    const { deps, events, loadOptions, audited } = harness({ audits: [auditReport(2), auditReport(0)] });
    const record = await runExperiment(experiment, deps);

    expect(events).toEqual([
      'probe ready',
      'load start',
      'sleep 10000',
      'inject slow',
      'sleep 5000',
      'probe breaker opens',
      'rollback slow',
      'inject outage',
      'sleep 20000',
      // The file's rollbacks: the outage; "slow" was already rolled back in the method and does not run twice.
      'rollback outage',
      // Quiet: one order still PENDING, then none.
      'audit',
      'sleep 1000',
      'audit',
      'probe ready',
      'audit',
    ]);
    expect(loadOptions[0]).toMatchObject({
      gatewayUrl: 'http://127.0.0.1:3000',
      mode: 'open',
      ratePerSecond: 5,
      durationSeconds: 60,
    });
    expect(audited.at(-1)).toEqual(['order-1', 'order-2', 'probe-order']);
    expect(record.verdict).toEqual({ ok: true, reasons: [] });
    expect(record.quiet).toMatchObject({ ok: true, pending: 0 });
    expect(record.phases.map((phase) => phase.phase)).toEqual([
      'before',
      'method',
      'rollbacks',
      'load',
      'quiet',
      'after',
      'audit',
    ]);
  });

  it('records each fault window from its injection to its rollback', async () => {
    const { deps } = harness();
    const record = await runExperiment(experiment, deps);
    const [slow, outage] = record.faults;
    // slow: injected after the 10 s pause, rolled back after 5 s more.
    expect(slow).toMatchObject({ name: 'slow', kind: 'http_faults' });
    expect((slow?.endedAt ?? 0) - (slow?.startedAt ?? 0)).toBe(5_000);
    expect((outage?.endedAt ?? 0) - (outage?.startedAt ?? 0)).toBe(20_000);
  });

  it('rolls back every injected fault when an action throws, and fails the run', async () => {
    const { deps, events } = harness({
      inject: (name) => {
        if (name === 'outage') throw new Error('provider unreachable');
      },
    });
    const record = await runExperiment(experiment, deps);
    // The outage's rollback was registered before its inject, so it runs although the inject failed.
    expect(events.filter((event) => event.startsWith('rollback'))).toEqual(['rollback slow', 'rollback outage']);
    expect(events).not.toContain('sleep 20000');
    expect(record.verdict.ok).toBe(false);
    expect(record.verdict.reasons).toContain('could not inject "outage": provider unreachable');
    expect(record.faults[1]?.injectError).toBe('provider unreachable');
  });

  it('on abort (Ctrl-C) stops the load and the method, runs the rollbacks, and skips quiet and audit', async () => {
    const h = harness({
      loadUntilAbort: true,
      inject: (name) => {
        if (name === 'slow') h.controller.abort();
      },
    });
    const record = await runExperiment(experiment, h.deps);
    // The load stops on the abort itself, the rollback after the method unwinds: both happen, nothing else.
    expect(h.events.slice(0, 4)).toEqual(['probe ready', 'load start', 'sleep 10000', 'inject slow']);
    expect(h.events.slice(4).sort()).toEqual(['load aborted', 'rollback slow']);
    expect(record.aborted).toBe(true);
    expect(record.verdict.ok).toBe(false);
    expect(record.audit).toBeUndefined();
  });

  it('injects nothing when the steady state does not hold before', async () => {
    const { deps, events } = harness({ probe: () => false });
    const record = await runExperiment(experiment, deps);
    expect(events).toEqual(['probe ready']);
    expect(record.verdict.reasons).toEqual(['the steady state did not hold before the faults; nothing was injected']);
  });

  it('repeats a probe with within_s until its tolerance holds', async () => {
    const { deps, events } = harness({
      probe: (activity, calls) => (activity.provider.func === 'all_ready' ? true : calls < 3 ? 'closed' : 'open'),
    });
    const record = await runExperiment(experiment, deps);
    const start = events.indexOf('probe breaker opens');
    expect(events.slice(start, start + 5)).toEqual([
      'probe breaker opens',
      'sleep 1000',
      'probe breaker opens',
      'sleep 1000',
      'probe breaker opens',
    ]);
    expect(record.methodProbes).toEqual([expect.objectContaining({ name: 'breaker opens', value: 'open', ok: true })]);
  });

  it('fails when a method probe deviates, the steady state fails after, or the audit finds a violation', async () => {
    let readyCalls = 0;
    const { deps } = harness({
      probe: (activity) => (activity.provider.func === 'all_ready' ? ++readyCalls === 1 : 'closed'),
      audits: [auditReport(0, ['invariant 3: order o-1 was captured twice'])],
    });
    const record = await runExperiment(experiment, deps);
    expect(record.verdict.reasons).toEqual([
      'method probe "breaker opens" deviated: "closed"',
      'the steady state did not hold after the faults',
      'invariant 3: order o-1 was captured twice',
    ]);
  });

  it('gives up waiting for quiet at the deadline and says what was still pending', async () => {
    const { deps } = harness({ audits: [auditReport(2)] });
    const record = await runExperiment(experiment, deps);
    expect(record.quiet).toMatchObject({ ok: false, pending: 2, pendingOutbox: 1, waitedMs: 10_000 });
    expect(record.verdict.reasons).toContain('not quiet after 10 s: 2 orders PENDING, 1 outbox rows pending');
  });

  it('refuses an experiment that needs docker compose before doing anything', async () => {
    const { shop: _shop, ...file } = experiment;
    const compose = parseExperiment({
      ...file,
      method: [action('pause', 'docker_pause', { service: 'inventory-service' })],
      rollbacks: [action('unpause', 'rollback', { action: 'pause' })],
    });
    const { deps, events } = harness();
    await expect(runExperiment(compose, deps)).rejects.toThrow(/runs only against docker compose/);
    expect(events).toEqual([]);
  });
});

describe('withinTolerance', () => {
  it('compares values, lists, ranges and patterns', () => {
    expect(withinTolerance(true, true)).toBe(true);
    expect(withinTolerance('closed', 'open')).toBe(false);
    expect(withinTolerance('half-open', ['open', 'half-open'])).toBe(true);
    expect(withinTolerance(7, { type: 'range', range: [0, 5] })).toBe(false);
    expect(withinTolerance(5, { type: 'range', range: [0, 5] })).toBe(true);
    expect(withinTolerance('stale', { type: 'regex', pattern: '^st' })).toBe(true);
    expect(withinTolerance(undefined, undefined)).toBe(true);
  });
});
