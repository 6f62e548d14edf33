import type { AuditReport } from '../audit/invariants';
import type { ProbeOutcome, RunRecord } from '../experiments/runner';
import type { LoadReport, SecondSample } from '../load/types';

/**
 * What one experiment run leaves behind (chaos/reports/<experiment>-<time>.json),
 * computed from the runner's record: the fault windows on the load's time
 * axis, requests and errors before, during and after them, and the recovery
 * time.
 */
export interface Counts {
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
}

export interface ReportWindow {
  readonly name: string;
  readonly kind: string;
  readonly description: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  /** Seconds since the load's first second (the chart's x axis). */
  readonly fromSecond: number;
  readonly toSecond: number;
  readonly injectError?: string;
  readonly rollbackError?: string;
}

export interface RunReport {
  readonly experiment: {
    readonly name: string;
    readonly title: string;
    readonly description: string;
    readonly tags: readonly string[];
  };
  readonly stack: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly verdict: { readonly ok: boolean; readonly reasons: readonly string[] };
  readonly aborted: boolean;
  readonly phases: ReadonlyArray<{ readonly phase: string; readonly startedAt: string; readonly seconds: number }>;
  readonly load: LoadReport['options'] | null;
  readonly loadError: string | null;
  readonly faults: readonly ReportWindow[];
  readonly requests: {
    readonly total: number;
    readonly errors: number;
    readonly dropped: number;
    readonly byStatus: Readonly<Record<string, number>>;
    readonly beforeFault: Counts;
    readonly duringFault: Counts;
    readonly afterFault: Counts;
  };
  readonly latency: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
  /** Seconds from the end of the last fault window to the first of 5 seconds in a row without an error; null: not within the load. */
  readonly recoverySeconds: number | null;
  readonly steadyState: { readonly before: readonly ProbeOutcome[]; readonly after: readonly ProbeOutcome[] };
  readonly methodProbes: readonly ProbeOutcome[];
  readonly quiet: RunRecord['quiet'] | null;
  readonly audit: { readonly counts: AuditReport['counts']; readonly violations: readonly string[] } | null;
  readonly ordersAudited: number;
  readonly samples: readonly SecondSample[];
}

/** Seconds in a row without an error that count as recovered. */
export const RECOVERED_FOR_SECONDS = 5;

const iso = (ms: number) => new Date(ms).toISOString();
const round1 = (value: number) => Math.round(value * 10) / 10;

function tally(samples: readonly SecondSample[]): Counts {
  return {
    seconds: samples.length,
    requests: samples.reduce((sum, sample) => sum + sample.requests, 0),
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
  };
}

/**
 * Each second of load falls before the first fault, during a fault window
 * (it overlaps one), or after the last window ended.
 */
export function splitByWindows(
  samples: readonly SecondSample[],
  windows: ReadonlyArray<{ startedAt: number; endedAt: number }>,
): { before: SecondSample[]; during: SecondSample[]; after: SecondSample[] } {
  const before: SecondSample[] = [];
  const during: SecondSample[] = [];
  const after: SecondSample[] = [];
  const firstStart = Math.min(...windows.map((window) => window.startedAt));
  const lastEnd = Math.max(...windows.map((window) => window.endedAt));
  for (const sample of samples) {
    const end = sample.at + 1_000;
    if (windows.some((window) => sample.at < window.endedAt && end > window.startedAt)) during.push(sample);
    else if (windows.length === 0 || end <= firstStart) before.push(sample);
    else if (sample.at >= lastEnd) after.push(sample);
    else during.push(sample);
  }
  return { before, during, after };
}

/**
 * The first second at or after `endedAt` (the one holding it counts) that
 * starts RECOVERED_FOR_SECONDS error-free seconds in a row; seconds from
 * `endedAt` to its start (0 when the second holding the rollback is already
 * clean). Null when the load ended first.
 */
export function recoverySeconds(samples: readonly SecondSample[], endedAt: number): number | null {
  const after = samples.filter((sample) => sample.at + 1_000 > endedAt);
  for (let index = 0; index + RECOVERED_FOR_SECONDS <= after.length; index++) {
    const run = after.slice(index, index + RECOVERED_FOR_SECONDS);
    const consecutive = run.every(
      (sample, offset) => offset === 0 || sample.second === (run[offset - 1]?.second ?? 0) + 1,
    );
    if (consecutive && run.every((sample) => sample.errors === 0)) {
      return round1(Math.max(0, ((run[0]?.at ?? endedAt) - endedAt) / 1000));
    }
  }
  return null;
}

export function buildReport(
  name: string,
  experiment: { title: string; description: string; tags: readonly string[] },
  stack: string,
  record: RunRecord,
): RunReport {
  const samples = record.load?.samples ?? [];
  const origin = samples[0]?.at ?? record.phases.find((phase) => phase.phase === 'load')?.startedAt ?? record.startedAt;
  const closed = record.faults.map((fault) => ({ ...fault, endedAt: fault.endedAt ?? record.finishedAt }));
  const parts = splitByWindows(samples, closed);
  const lastEnd = closed.length ? Math.max(...closed.map((window) => window.endedAt)) : undefined;
  return {
    experiment: { name, title: experiment.title, description: experiment.description, tags: [...experiment.tags] },
    stack,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    durationSeconds: round1((record.finishedAt - record.startedAt) / 1000),
    verdict: { ok: record.verdict.ok, reasons: [...record.verdict.reasons] },
    aborted: record.aborted,
    phases: record.phases.map((phase) => ({
      phase: phase.phase,
      startedAt: iso(phase.startedAt),
      seconds: round1((phase.endedAt - phase.startedAt) / 1000),
    })),
    load: record.load?.options ?? null,
    loadError: record.loadError ?? null,
    faults: record.faults.map((fault, index) => ({
      name: fault.name,
      kind: fault.kind,
      description: fault.description,
      startedAt: iso(fault.startedAt),
      endedAt: fault.endedAt === undefined ? null : iso(fault.endedAt),
      fromSecond: round1((fault.startedAt - origin) / 1000),
      toSecond: round1(((closed[index]?.endedAt ?? fault.startedAt) - origin) / 1000),
      ...(fault.injectError ? { injectError: fault.injectError } : {}),
      ...(fault.rollbackError ? { rollbackError: fault.rollbackError } : {}),
    })),
    requests: {
      total: record.load?.totals.requests ?? 0,
      errors: record.load?.totals.errors ?? 0,
      dropped: record.load?.totals.dropped ?? 0,
      byStatus: record.load?.totals.byStatus ?? {},
      beforeFault: tally(parts.before),
      duringFault: tally(parts.during),
      afterFault: tally(parts.after),
    },
    latency: record.load
      ? { p50Ms: record.load.totals.p50Ms, p99Ms: record.load.totals.p99Ms, maxMs: record.load.totals.maxMs }
      : null,
    recoverySeconds: lastEnd === undefined ? null : recoverySeconds(samples, lastEnd),
    steadyState: { before: record.before, after: record.after },
    methodProbes: record.methodProbes,
    quiet: record.quiet ?? null,
    audit: record.audit ? { counts: record.audit.counts, violations: record.audit.violations } : null,
    ordersAudited: record.orderIds.length,
    samples,
  };
}
