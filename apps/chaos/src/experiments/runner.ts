import type { AuditReport } from '../audit/invariants';
import { type Fault, RollbackRegistry, type RollbackOutcome } from '../faults/fault';
import type { LoadReport, RunLoad, SecondSample } from '../load/types';
import {
  type ActionActivity,
  type Experiment,
  functionSpec,
  needsCompose,
  type ProbeActivity,
  type Tolerance,
} from './schema';

/**
 * Runs one experiment, in the order of the Chaos Toolkit:
 *
 *   steady state before → load + method (its actions and probes, with their
 *   pauses) → rollbacks → the load's end → quiet (every order terminal, every
 *   outbox drained) → steady state after → audit of the invariants over the
 *   orders the run placed.
 *
 * Everything with a side effect comes in as a dependency (the load, the
 * faults, the probes, the audit, the clock), so the order of the steps is
 * tested with fakes. Rollbacks always run: a fault's rollback is registered
 * before it is injected, and the method runs inside try/finally, so an
 * action that throws and an abort (Ctrl-C) both end in the rollbacks.
 */
export interface RunnerDeps {
  readonly runLoad: RunLoad;
  readonly createFault: (action: ActionActivity) => Fault;
  readonly runProbe: (probe: ProbeActivity) => Promise<unknown>;
  /** The invariants over these orders (apps/chaos/src/audit/invariants.ts). */
  readonly audit: (orderIds: readonly string[]) => Promise<AuditReport>;
  /** Orders placed by probes, read when the run ends: they are audited with the load's. */
  readonly probeOrderIds?: () => readonly string[];
  readonly gatewayUrl: string;
  /** Waits, or rejects once `signal` aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Aborts the run (Ctrl-C): the load stops, the method stops, the rollbacks run. */
  readonly signal?: AbortSignal;
  /** How often quiet is polled (default 1 s). */
  readonly quietIntervalMs?: number;
}

export interface ProbeOutcome {
  readonly name: string;
  readonly func: string;
  readonly value: unknown;
  /** Whether the value is within the tolerance (true when the probe has none and did not throw). */
  readonly ok: boolean;
  readonly error?: string;
  readonly at: number;
}

export interface FaultWindow {
  readonly name: string;
  readonly kind: string;
  readonly description: string;
  readonly startedAt: number;
  endedAt: number | undefined;
  injectError?: string;
  rollbackError?: string;
}

export interface Phase {
  readonly phase: 'before' | 'method' | 'rollbacks' | 'load' | 'quiet' | 'after' | 'audit';
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface RunRecord {
  readonly title: string;
  readonly startedAt: number;
  finishedAt: number;
  readonly phases: Phase[];
  readonly before: ProbeOutcome[];
  readonly methodProbes: ProbeOutcome[];
  readonly after: ProbeOutcome[];
  readonly faults: FaultWindow[];
  readonly rollbacks: RollbackOutcome[];
  load: LoadReport | undefined;
  loadError: string | undefined;
  quiet:
    | { readonly ok: boolean; readonly waitedMs: number; readonly pending: number; readonly pendingOutbox: number }
    | undefined;
  audit: AuditReport | undefined;
  orderIds: readonly string[];
  aborted: boolean;
  readonly verdict: { ok: boolean; readonly reasons: string[] };
}

export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor() {
    super('the run was aborted');
  }
}

/** Chaos Toolkit tolerances: a value, one of a list, a numeric range, a regex over the value as text. */
export function withinTolerance(value: unknown, tolerance: Tolerance | undefined): boolean {
  if (tolerance === undefined) return true;
  if (Array.isArray(tolerance)) return tolerance.some((one) => one === value);
  if (typeof tolerance === 'object') {
    if (tolerance.type === 'range') {
      return typeof value === 'number' && value >= tolerance.range[0] && value <= tolerance.range[1];
    }
    return new RegExp(tolerance.pattern).test(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return value === tolerance;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function runExperiment(experiment: Experiment, deps: RunnerDeps): Promise<RunRecord> {
  if (needsCompose(experiment)) {
    throw new Error(`"${experiment.title}" uses docker or toxiproxy faults: it runs only against docker compose`);
  }
  const { now, log, signal } = deps;
  const record: RunRecord = {
    title: experiment.title,
    startedAt: now(),
    finishedAt: 0,
    phases: [],
    before: [],
    methodProbes: [],
    after: [],
    faults: [],
    rollbacks: [],
    load: undefined,
    loadError: undefined,
    quiet: undefined,
    audit: undefined,
    orderIds: [],
    aborted: false,
    verdict: { ok: true, reasons: [] },
  };
  const fail = (reason: string) => {
    record.verdict.ok = false;
    record.verdict.reasons.push(reason);
    log(`  ✗ ${reason}`);
  };
  const phase = async <T>(name: Phase['phase'], work: () => Promise<T>): Promise<T> => {
    const startedAt = now();
    log(`${name}`);
    try {
      return await work();
    } finally {
      record.phases.push({ phase: name, startedAt, endedAt: now() });
    }
  };
  const checkAbort = () => {
    if (signal?.aborted) throw new AbortedError();
  };

  /** Runs a probe; with `within_s` it is repeated until its tolerance holds or the time is up. */
  const probe = async (activity: ProbeActivity): Promise<ProbeOutcome> => {
    const within = (activity.provider.arguments ?? {})['within_s'];
    const deadline = now() + (typeof within === 'number' ? within * 1000 : 0);
    for (;;) {
      let outcome: ProbeOutcome;
      try {
        const value = await deps.runProbe(activity);
        outcome = {
          name: activity.name,
          func: activity.provider.func,
          value,
          ok: withinTolerance(value, activity.tolerance),
          at: now(),
        };
      } catch (error) {
        outcome = {
          name: activity.name,
          func: activity.provider.func,
          value: null,
          ok: false,
          error: message(error),
          at: now(),
        };
      }
      if (outcome.ok || now() >= deadline || signal?.aborted) {
        log(`  ${outcome.ok ? '✓' : '✗'} ${activity.name}: ${outcome.error ?? JSON.stringify(outcome.value)}`);
        return outcome;
      }
      await deps.sleep(1_000, signal).catch(() => undefined);
    }
  };

  const hypothesis = async (into: ProbeOutcome[]) => {
    for (const activity of experiment['steady-state-hypothesis'].probes) {
      checkAbort();
      into.push(await probe(activity));
    }
    return into.every((outcome) => outcome.ok);
  };

  // 1. Steady state before: if it does not hold, injecting faults proves nothing.
  try {
    if (!(await phase('before', () => hypothesis(record.before)))) {
      fail('the steady state did not hold before the faults; nothing was injected');
      record.finishedAt = now();
      return record;
    }
  } catch (error) {
    if (!(error instanceof AbortedError)) throw error;
    record.aborted = true;
    fail('aborted');
    record.finishedAt = now();
    return record;
  }

  // 2. Load in the background; the method starts once the load records its first second.
  const registry = new RollbackRegistry(now);
  const loadAbort = new AbortController();
  const stopLoad = () => loadAbort.abort();
  signal?.addEventListener('abort', stopLoad, { once: true });
  let loadStarted: () => void = () => undefined;
  const firstSecond = new Promise<void>((resolve) => (loadStarted = resolve));
  const loadStartedAt = now();
  const { load } = experiment.shop;
  const loadRun = deps
    .runLoad({
      gatewayUrl: deps.gatewayUrl,
      mode: load.mode,
      durationSeconds: load.durationSeconds,
      ...(load.ratePerSecond === undefined ? {} : { ratePerSecond: load.ratePerSecond }),
      ...(load.users === undefined ? {} : { users: load.users }),
      ...(load.customers === undefined ? {} : { customers: load.customers }),
      ...(load.mix === undefined ? {} : { mix: load.mix }),
      signal: loadAbort.signal,
      onSample: (sample: SecondSample) => {
        loadStarted();
        if (sample.second % 5 === 4) {
          log(
            `  load ${sample.second + 1}s: ${sample.requests} req/s, ${sample.errors} errors, p99 ${sample.p99Ms} ms`,
          );
        }
      },
    })
    .then(
      (report) => {
        record.load = report;
        return report;
      },
      (error: unknown) => {
        record.loadError = message(error);
        return undefined;
      },
    )
    .finally(() => loadStarted());

  const windows = new Map<string, FaultWindow>();
  const endWindow = (outcome: RollbackOutcome) => {
    const window = windows.get(outcome.name);
    if (!window) return;
    window.endedAt ??= outcome.at;
    if (!outcome.ok) window.rollbackError = outcome.error ?? 'failed';
  };
  const rolledBackInMethod = new Set(
    experiment.method.flatMap((activity) =>
      activity.type === 'action' && activity.provider.func === 'rollback'
        ? [String((activity.provider.arguments ?? {})['action'])]
        : [],
    ),
  );
  const rollback = async (name: string) => {
    const outcome = await registry.rollback(name);
    if (!record.rollbacks.some((done) => done.name === name)) record.rollbacks.push(outcome);
    endWindow(outcome);
    if (!outcome.ok) fail(`rollback of "${name}" failed: ${outcome.error}`);
  };

  // 3. The method, then 4. the rollbacks, whatever happened in the method.
  try {
    await phase('method', async () => {
      await Promise.race([
        firstSecond,
        new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve())),
      ]);
      for (const activity of experiment.method) {
        checkAbort();
        if (activity.pauses?.before) await deps.sleep(activity.pauses.before * 1000, signal);
        checkAbort();
        if (activity.type === 'probe') {
          const outcome = await probe(activity);
          record.methodProbes.push(outcome);
          if (!outcome.ok)
            fail(`method probe "${activity.name}" deviated: ${outcome.error ?? JSON.stringify(outcome.value)}`);
        } else if (activity.provider.func === 'rollback') {
          log(`  rollback ${String((activity.provider.arguments ?? {})['action'])}`);
          await rollback(String((activity.provider.arguments ?? {})['action']));
        } else {
          const fault = deps.createFault(activity);
          const window: FaultWindow = {
            name: activity.name,
            kind: fault.kind,
            description: fault.description,
            startedAt: now(),
            endedAt: undefined,
          };
          windows.set(activity.name, window);
          record.faults.push(window);
          registry.register(activity.name, fault);
          log(`  inject ${activity.name}: ${fault.description}`);
          try {
            await fault.inject();
          } catch (error) {
            window.injectError = message(error);
            throw new Error(`could not inject "${activity.name}": ${message(error)}`);
          }
          // A one-shot fault the method does not roll back ends when it is done.
          if (!functionSpec(activity).reversible && !rolledBackInMethod.has(activity.name)) window.endedAt = now();
        }
        if (activity.pauses?.after) await deps.sleep(activity.pauses.after * 1000, signal);
      }
    });
  } catch (error) {
    if (error instanceof AbortedError || signal?.aborted) {
      record.aborted = true;
      fail('aborted');
    } else {
      fail(message(error));
    }
    stopLoad();
  } finally {
    await phase('rollbacks', async () => {
      for (const activity of experiment.rollbacks) {
        const name = String((activity.provider.arguments ?? {})['action']);
        if (registry.has(name)) await rollback(name);
      }
      for (const outcome of await registry.rollbackAll()) {
        record.rollbacks.push(outcome);
        endWindow(outcome);
        if (!outcome.ok) fail(`rollback of "${outcome.name}" failed: ${outcome.error}`);
      }
    });
  }

  // 5. The load runs to its end (it stops early on an abort or a failed method).
  await loadRun;
  record.phases.push({ phase: 'load', startedAt: loadStartedAt, endedAt: now() });
  if (record.loadError) fail(`the load failed: ${record.loadError}`);
  record.orderIds = [...(record.load?.orderIds ?? []), ...(deps.probeOrderIds?.() ?? [])];
  if (record.aborted) {
    record.finishedAt = now();
    return record;
  }

  // 6. Quiet: every order terminal and every outbox drained, or the deadline.
  await phase('quiet', async () => {
    const started = now();
    const deadline = started + (experiment.shop.quietTimeoutS ?? 120) * 1000;
    for (;;) {
      let pending = -1;
      let pendingOutbox = -1;
      try {
        const report = await deps.audit(record.orderIds);
        pending = report.counts.orders['PENDING'] ?? 0;
        pendingOutbox = report.counts.pendingOutbox;
      } catch (error) {
        log(`  audit not possible yet: ${message(error)}`);
      }
      const ok = pending === 0 && pendingOutbox === 0;
      if (ok || now() >= deadline || signal?.aborted) {
        record.quiet = { ok, waitedMs: now() - started, pending, pendingOutbox };
        if (!ok)
          fail(
            `not quiet after ${Math.round((now() - started) / 1000)} s: ${pending} orders PENDING, ${pendingOutbox} outbox rows pending`,
          );
        return;
      }
      await deps.sleep(deps.quietIntervalMs ?? 1_000, signal).catch(() => undefined);
    }
  });

  // 7. Steady state after, 8. the audit.
  try {
    if (!(await phase('after', () => hypothesis(record.after)))) fail('the steady state did not hold after the faults');
  } catch (error) {
    if (!(error instanceof AbortedError)) throw error;
    record.aborted = true;
    fail('aborted');
  }
  if (!record.aborted) {
    await phase('audit', async () => {
      record.orderIds = [...(record.load?.orderIds ?? []), ...(deps.probeOrderIds?.() ?? [])];
      try {
        record.audit = await deps.audit(record.orderIds);
        for (const violation of record.audit.violations) fail(violation);
      } catch (error) {
        fail(`the audit failed: ${message(error)}`);
      }
    });
  }
  record.finishedAt = now();
  signal?.removeEventListener('abort', stopLoad);
  return record;
}
