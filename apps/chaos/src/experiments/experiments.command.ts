import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { audit } from '../audit/invariants';
import { createFault } from '../faults/catalog';
import type { DeadLetterExpectations } from '../faults/message-faults';
import { restock } from '../faults/restock';
import { findRoot, resolveStack, type StackTarget } from '../faults/target';
import { runLoad } from '../load/load';
import type { RunLoad } from '../load/types';
import { buildReport } from '../report/report';
import { writeReport } from '../report/write';
import { experimentFileNames, experimentsDir, type ExperimentFile, findExperiment, loadExperimentFile } from './files';
import { runProbe } from './probes';
import { runExperiment } from './runner';
import { ExperimentError, functionSpec, methodSeconds, needsCompose } from './schema';

/**
 * `npm run chaos -- run <experiment> | run --all`, `list` and `validate`:
 * the experiments of chaos/experiments against a running stack.
 */
export const EXPERIMENT_USAGE = `  run <experiment> | --all [--stack <id>] [--block <n>]
                     run an experiment of chaos/experiments (by file name), or all of
                     them in turn: steady state, load + faults, rollbacks, quiet,
                     steady state, audit; writes chaos/reports/<experiment>-<time>.
                     {json,md,svg}; exits 1 when one fails; Ctrl-C rolls back and stops
  list               the experiments, their load and faults
  validate [file…]   check experiment files against the schema (default: all)
`;

function option(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  if (index < 0) return undefined;
  const value = argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function describe(file: ExperimentFile): string {
  const { experiment } = file;
  const { load } = experiment.shop;
  const faults = experiment.method
    .filter((activity) => activity.type === 'action' && activity.provider.func !== 'rollback')
    .map((activity) => activity.provider.func);
  const rate = load.mode === 'open' ? `${load.ratePerSecond} req/s` : `${load.users} users`;
  return (
    `${file.name.padEnd(24)} ${experiment.title}\n` +
    `${''.padEnd(24)} load ${rate} for ${load.durationSeconds} s; faults: ${[...new Set(faults)].join(', ')}; ` +
    `method pauses ${methodSeconds(experiment.method)} s${needsCompose(experiment) ? '; needs docker compose' : ''}`
  );
}

export function listCommand(root: string = findRoot()): number {
  const dir = experimentsDir(root);
  let status = 0;
  for (const file of experimentFileNames(dir)) {
    try {
      say(describe(loadExperimentFile(file)));
    } catch (error) {
      say(`${path.basename(file, '.json').padEnd(24)} INVALID (npm run chaos -- validate)`);
      if (!(error instanceof ExperimentError)) throw error;
      status = 1;
    }
  }
  return status;
}

export function validateCommand(argv: readonly string[], root: string = findRoot()): number {
  const files = argv.length ? argv.map((file) => path.resolve(file)) : experimentFileNames(experimentsDir(root));
  let invalid = 0;
  for (const file of files) {
    try {
      const { experiment } = loadExperimentFile(file);
      // Every function resolves (the schema checked it; this catches a catalog out of step with it).
      for (const activity of experiment.method) functionSpec(activity);
      say(`ok       ${path.relative(root, file)}`);
    } catch (error) {
      invalid++;
      say(`INVALID  ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  say(invalid ? `${invalid} of ${files.length} invalid` : `${files.length} valid`);
  return invalid ? 1 : 0;
}

/**
 * Units every SKU is topped up to before an experiment, so its load is not
 * refused for want of stock. Low on purpose: orders for more than is in stock
 * must stay possible (at most 100 units a line).
 */
const RESTOCK_TO = 50;

async function runOne(file: ExperimentFile, target: StackTarget, signal: AbortSignal, load: RunLoad): Promise<boolean> {
  say(`\n== ${file.name}: ${file.experiment.title} (stack "${target.id}")`);
  const restocked = await restock(target, RESTOCK_TO).catch((error: unknown) => {
    say(`  could not restock: ${error instanceof Error ? error.message : String(error)}`);
    return 0;
  });
  if (restocked > 0) say(`prepare\n  restocked ${restocked} SKUs to ${RESTOCK_TO} units`);
  const deadLetters: DeadLetterExpectations = new Map();
  const probeOrders: string[] = [];
  const probeContext = { target, deadLetters, orderIds: probeOrders };
  const pendingGraceMs = Number(process.env['SAGA_TIMEOUT_MS'] ?? 30_000) + 1_000;
  const record = await runExperiment(file.experiment, {
    runLoad: load,
    createFault: (action) => createFault(action, { target, deadLetters }),
    runProbe: (probe) => runProbe(probe, probeContext),
    audit: (orderIds) => audit({ adminUrl: target.adminDatabaseUrl, stackId: target.id, pendingGraceMs }, { orderIds }),
    probeOrderIds: () => probeOrders,
    gatewayUrl: target.url('gateway'),
    sleep: (ms, abort) => delay(ms, undefined, abort ? { signal: abort } : {}),
    now: Date.now,
    log: say,
    signal,
  });
  const report = buildReport(file.name, file.experiment, target.id, record);
  const files = writeReport(path.join(target.root, 'chaos', 'reports'), report);
  say(
    `${report.verdict.ok ? 'PASSED' : 'FAILED'} ${file.name}: ${report.requests.total} requests, ` +
      `${report.requests.duringFault.errors} errors during the faults, ${report.requests.afterFault.errors} after; ` +
      `recovery ${report.recoverySeconds ?? '–'} s; ${report.audit?.violations.length ?? '–'} violations`,
  );
  for (const reason of report.verdict.reasons) say(`  - ${reason}`);
  say(`  report: ${path.relative(target.root, files.markdown)} (.json, .svg)`);
  return report.verdict.ok;
}

/**
 * Runs one experiment or all of them, in turn. The first SIGINT/SIGTERM
 * aborts the run in progress: its rollbacks run, its report is written, and
 * no further experiment starts.
 */
export async function runCommand(argv: readonly string[], load: RunLoad = runLoad): Promise<number> {
  const all = argv.includes('--all');
  const block = option(argv, '--block');
  const target = resolveStack({ id: option(argv, '--stack'), block: block === undefined ? undefined : Number(block) });
  const valued = new Set(['--stack', '--block']);
  const names = argv.filter((arg, index) => !arg.startsWith('--') && !valued.has(argv[index - 1] ?? ''));
  if (all ? names.length > 0 : names.length !== 1) throw new Error('run: name one experiment, or --all');
  const dir = experimentsDir(target.root);
  const files = all ? experimentFileNames(dir).map(loadExperimentFile) : [findExperiment(dir, names[0] ?? '')];

  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      say(`${name}: still rolling back, please wait`);
      return;
    }
    say(`${name}: aborting, rolling back the faults`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const results: Array<[string, boolean]> = [];
    for (const file of files) {
      if (controller.signal.aborted) break;
      if (needsCompose(file.experiment)) {
        if (!all) throw new Error(`${file.name} uses docker or toxiproxy faults: it runs only against docker compose`);
        say(`\n== ${file.name}: skipped, it needs the docker compose stack`);
        continue;
      }
      results.push([file.name, await runOne(file, target, controller.signal, load)]);
    }
    if (results.length > 1) {
      say('\nsummary:');
      for (const [name, ok] of results) say(`  ${ok ? 'PASSED' : 'FAILED'} ${name}`);
    }
    return !controller.signal.aborted && results.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
