import type { ProbeOutcome } from '../experiments/runner';
import type { RunReport } from './report';

/** The human-readable report (chaos/reports/<experiment>-<time>.md), beside its JSON and its chart. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function probes(title: string, outcomes: readonly ProbeOutcome[]): string[] {
  if (!outcomes.length) return [];
  return [
    `### ${title}`,
    '',
    '| probe | result | value |',
    '| --- | --- | --- |',
    ...outcomes.map(
      (outcome) =>
        `| ${cell(outcome.name)} | ${outcome.ok ? 'ok' : 'FAILED'} | ${cell(outcome.error ?? JSON.stringify(outcome.value))} |`,
    ),
    '',
  ];
}

const rate = (errors: number, requests: number) => (requests ? `${((100 * errors) / requests).toFixed(1)}%` : '–');

export function reportMarkdown(report: RunReport, chartFile: string): string {
  const { requests } = report;
  const lines = [
    `# ${report.experiment.title}`,
    '',
    `**${report.verdict.ok ? 'PASSED' : 'FAILED'}**${report.aborted ? ' (aborted)' : ''} · stack \`${report.stack}\` · ${report.startedAt} · ${report.durationSeconds} s`,
    '',
    report.experiment.description,
    '',
    ...(report.verdict.reasons.length
      ? ['## Why it failed', '', ...report.verdict.reasons.map((reason) => `- ${reason}`), '']
      : []),
    `![throughput, error rate and p99 over time, fault windows shaded](${chartFile})`,
    '',
    '## Timings',
    '',
    '| phase | started | seconds |',
    '| --- | --- | --- |',
    ...report.phases.map((phase) => `| ${phase.phase} | ${phase.startedAt} | ${phase.seconds} |`),
    '',
    '## Faults',
    '',
    '| action | kind | what | window (s since load start) | notes |',
    '| --- | --- | --- | --- | --- |',
    ...report.faults.map(
      (fault) =>
        `| ${cell(fault.name)} | ${fault.kind} | ${cell(fault.description)} | ${fault.fromSecond} – ${fault.toSecond} | ${cell(
          [
            fault.injectError && `inject failed: ${fault.injectError}`,
            fault.rollbackError && `rollback failed: ${fault.rollbackError}`,
          ]
            .filter(Boolean)
            .join('; '),
        )} |`,
    ),
    '',
    '## Requests',
    '',
    report.load
      ? `Load: ${report.load.mode} ${report.load.mode === 'open' ? `${report.load.ratePerSecond} req/s` : `${report.load.users} users`} for ${report.load.durationSeconds} s.`
      : `No load report${report.loadError ? `: ${report.loadError}` : ''}.`,
    '',
    '| | seconds | requests | errors | error rate |',
    '| --- | --- | --- | --- | --- |',
    `| before the faults | ${requests.beforeFault.seconds} | ${requests.beforeFault.requests} | ${requests.beforeFault.errors} | ${rate(requests.beforeFault.errors, requests.beforeFault.requests)} |`,
    `| during the faults | ${requests.duringFault.seconds} | ${requests.duringFault.requests} | ${requests.duringFault.errors} | ${rate(requests.duringFault.errors, requests.duringFault.requests)} |`,
    `| after the faults | ${requests.afterFault.seconds} | ${requests.afterFault.requests} | ${requests.afterFault.errors} | ${rate(requests.afterFault.errors, requests.afterFault.requests)} |`,
    `| total | ${report.samples.length} | ${requests.total} | ${requests.errors} | ${rate(requests.errors, requests.total)} |`,
    '',
    `By status: ${
      Object.entries(requests.byStatus)
        .map(([status, count]) => `${status} × ${count}`)
        .join(', ') || '–'
    }; dropped (open loop, too many in flight): ${requests.dropped}.`,
    report.latency
      ? `Latency: p50 ${report.latency.p50Ms} ms, p99 ${report.latency.p99Ms} ms, max ${report.latency.maxMs} ms.`
      : '',
    '',
    `**Recovery time:** ${report.recoverySeconds === null ? 'not recovered within the load (no 5 s in a row without errors after the last rollback)' : `${report.recoverySeconds} s (from the last rollback to the first of 5 error-free seconds in a row)`}.`,
    '',
    '## Steady state',
    '',
    ...probes('Before', report.steadyState.before),
    ...probes('During the method', report.methodProbes),
    ...probes('After', report.steadyState.after),
    '## Quiet',
    '',
    report.quiet
      ? `${report.quiet.ok ? 'Quiet' : 'Not quiet'} after ${Math.round(report.quiet.waitedMs / 1000)} s: ${report.quiet.pending} orders PENDING, ${report.quiet.pendingOutbox} outbox rows pending.`
      : 'Not reached.',
    '',
    '## Invariants',
    '',
  ];
  if (!report.audit) {
    lines.push('The audit did not run.', '');
  } else {
    const { counts } = report.audit;
    lines.push(
      `Audited ${report.ordersAudited} orders (the load's and the probes').`,
      '',
      '| count | value |',
      '| --- | --- |',
      ...Object.entries(counts.orders).map(([status, count]) => `| orders ${status} | ${count} |`),
      `| SKUs | ${counts.skus} |`,
      `| captured (cents) | ${counts.capturedCents} |`,
      `| refunded (cents) | ${counts.refundedCents} |`,
      `| streams checked | ${counts.streamsChecked} |`,
      `| outbox rows pending | ${counts.pendingOutbox} |`,
      `| violations | ${report.audit.violations.length} |`,
      '',
      ...report.audit.violations.map((violation) => `- VIOLATION ${violation}`),
      '',
    );
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
