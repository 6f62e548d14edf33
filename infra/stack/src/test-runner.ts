import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { APPS, urlEnv } from './apps.ts';
import { root } from './paths.ts';
import {
  build,
  type Infrastructure,
  type Say,
  startApps,
  startInfrastructure,
  stopInfrastructure,
  tokens,
  waitUntilReady,
} from './run-stack.ts';
import { appUrl, findFreeBlock, releaseBlock, type Stack, stackFor } from './stack.ts';
import { startSpanSink } from './span-sink.ts';

/**
 * `npm test`: every check and every test, against a real broker and a real
 * database that it brings up itself (and stops again). The test stack has its
 * own id and port block, so it runs beside `npm start`.
 *
 * Stages, in order: infra + build, typecheck, lint (ESLint and Prettier), compose,
 * unit, int, e2e.
 * `npm test -- unit lint` runs only the named stages (and infra when one of
 * them needs it).
 */
const STAGES = ['build', 'typecheck', 'lint', 'compose', 'unit', 'int', 'e2e'] as const;
type StageName = (typeof STAGES)[number] | 'infra';
const NEEDS_INFRA = new Set<StageName>(['int', 'e2e']);
/** Per test stack, so runs side by side never count each other's results. */
const RESULTS_DIR = path.join(root, '.run', 'test-results', process.env['TEST_STACK_ID'] ?? 'test');

interface StageResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly note?: string;
}

/** kafkajs 2.2.4 schedules negative timeouts on Node 24 (tulios/kafkajs#1751); harmless, so silenced in test workers too. */
const quietEnv: NodeJS.ProcessEnv = {
  ...process.env,
  TEST_RESULTS_DIR: RESULTS_DIR,
  NODE_OPTIONS: [process.env['NODE_OPTIONS'], '--disable-warning=TimeoutNegativeWarning'].filter(Boolean).join(' '),
};

function run(command: string, args: string[], env: NodeJS.ProcessEnv = quietEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(127));
  });
}

const node = process.execPath;
/** A tool's entry script; run with this Node, not whatever `node` the PATH names first. */
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
/** TEST_PROJECTS=a,b limits the Nx stages to those projects (for working on one lib). */
const projects = process.env['TEST_PROJECTS'] ? [`--projects=${process.env['TEST_PROJECTS']}`] : [];
const nx = (args: string[], env?: NodeJS.ProcessEnv) =>
  run(node, [bin('nx'), ...args, ...projects, '--output-style=static'], env);

function composeCheck(): Promise<number> | 'missing' {
  for (const [command, args] of [
    ['docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']],
    ['docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q']],
  ] as const) {
    const probe = spawnSync(command, command === 'docker' ? ['compose', 'version'] : ['version'], { stdio: 'ignore' });
    if (!probe.error && probe.status === 0) return run(command, [...args]);
  }
  return 'missing';
}

/**
 * Prometheus's own checks of infra/observability/prometheus: the config (and
 * the rule files it names), the rules, and the rules' unit tests (alerts.test.yml).
 */
function promtoolCheck(): Promise<number> | 'missing' {
  const probe = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return 'missing';
  const dir = path.join('infra', 'observability', 'prometheus');
  return (async () =>
    (await run('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')])) ||
    (await run('promtool', ['check', 'rules', path.join(dir, 'alerts.yml')])) ||
    run('promtool', ['test', 'rules', path.join(dir, 'alerts.test.yml')]))();
}

/** Adds up the jest JSON reports the unit/int/e2e targets wrote. */
function testCounts(): { passed: number; failed: number; suites: number } {
  const counts = { passed: 0, failed: 0, suites: 0 };
  if (!existsSync(RESULTS_DIR)) return counts;
  for (const file of readdirSync(RESULTS_DIR)) {
    const report = JSON.parse(readFileSync(path.join(RESULTS_DIR, file), 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTestSuites: number;
      numRuntimeErrorTestSuites: number;
    };
    counts.passed += report.numPassedTests;
    counts.failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
    counts.suites += report.numTotalTestSuites;
  }
  return counts;
}

/** Samples the server's client connections while the tests run (the budget is 70 of 100). */
function connectionSampler(adminUrl: string): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: adminUrl });
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  const ready = client.connect().then(() => {
    const sample = async () => {
      const result = await client.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'",
      );
      peak = Math.max(peak, result.rows[0]?.n ?? 0);
    };
    timer = setInterval(() => void sample().catch(() => undefined), 500);
    return sample();
  });
  return {
    async stop() {
      clearInterval(timer);
      await ready.catch(() => undefined);
      await client.end().catch(() => undefined);
      return peak;
    },
  };
}

export async function testCommand(args: string[], say: Say): Promise<number> {
  const selected = new Set<StageName>(args.length ? (args as StageName[]) : STAGES);
  for (const name of selected) {
    if (!(STAGES as readonly string[]).includes(name))
      throw new Error(`unknown stage "${name}"; stages: ${STAGES.join(', ')}`);
  }
  say(`Node ${process.version} (${process.execPath})`);
  const results: StageResult[] = [];
  const began = Date.now();
  const stage = async (name: StageName, body: () => Promise<number | { ok: boolean; note: string }>) => {
    const started = Date.now();
    say(`── ${name}`);
    let ok: boolean;
    let note: string | undefined;
    try {
      const outcome = await body();
      if (typeof outcome === 'number') ok = outcome === 0;
      else ({ ok, note } = outcome);
    } catch (error) {
      ok = false;
      note = error instanceof Error ? error.message : `failed: ${String(error)}`;
      say(note);
    }
    results.push({ name, ok, seconds: (Date.now() - started) / 1000, ...(note ? { note } : {}) });
    return ok;
  };

  rmSync(RESULTS_DIR, { recursive: true, force: true });
  mkdirSync(RESULTS_DIR, { recursive: true });
  const needsInfra = [...selected].some((name) => NEEDS_INFRA.has(name));
  const stack: Stack = stackFor(process.env['TEST_STACK_ID'] ?? 'test', await findFreeBlock(1));
  let infra: Infrastructure | undefined;
  let sampler: { stop(): Promise<number> } | undefined;
  let failed = false;

  try {
    // Infrastructure and the build do not depend on each other: run them together.
    const infraStage = needsInfra
      ? stage('infra', async () => {
          infra = await startInfrastructure(stack, say);
          sampler = connectionSampler(infra.postgres.adminUrl);
          return { ok: true, note: `stack ${stack.id}, block ${stack.block}, Kafka ${infra.brokers.join(',')}` };
        })
      : Promise.resolve(true);
    const buildStage =
      selected.has('build') || needsInfra ? stage('build', () => build(say).then(() => 0)) : Promise.resolve(true);
    const [infraOk, buildOk] = await Promise.all([infraStage, buildStage]);
    failed = !infraOk || !buildOk;

    if (selected.has('typecheck')) {
      failed =
        !(await stage('typecheck', async () => {
          const tsc = bin('tsc');
          const specs = await run(node, [tsc, '-p', 'tsconfig.spec.json']);
          const stackTools = await run(node, [tsc, '-p', 'infra/stack/tsconfig.json']);
          const benchmarks = await run(node, [tsc, '-p', 'bench/tsconfig.json']);
          return specs || stackTools || benchmarks;
        })) || failed;
    }
    if (selected.has('lint')) {
      failed =
        !(await stage('lint', async () => {
          const eslint = await nx(['run-many', '-t', 'lint']);
          const prettier = await run(node, [bin('prettier'), '--check', '--log-level=warn', '.']);
          return eslint || prettier;
        })) || failed;
    }
    if (selected.has('compose')) {
      failed =
        !(await stage('compose', async () => {
          // docker-compose and promtool (Debian's prometheus package): required in CI, skipped with a note elsewhere.
          const missing: string[] = [];
          let code = 0;
          for (const [tool, check] of [
            ['docker-compose', composeCheck],
            ['promtool', promtoolCheck],
          ] as const) {
            const outcome = check();
            if (outcome === 'missing') missing.push(tool);
            else code = (await outcome) || code;
          }
          if (missing.length === 0) return code;
          const packages = missing.map((tool) => (tool === 'promtool' ? 'prometheus' : tool)).join(' ');
          if (process.env['CI'])
            return { ok: false, note: `${missing.join(' and ')} not installed (apt-get install ${packages})` };
          return {
            ok: code === 0,
            note: `skipped ${missing.join(' and ')}: not installed (apt-get install ${packages})`,
          };
        })) || failed;
    }
    if (selected.has('unit')) failed = !(await stage('unit', () => nx(['run-many', '-t', 'unit']))) || failed;

    if (failed && needsInfra) say('skipping int and e2e: an earlier stage failed');
    if (infra && !failed) {
      const running = infra;
      const testEnv: NodeJS.ProcessEnv = {
        ...quietEnv,
        STACK_ID: stack.id,
        STACK_PORT_BLOCK: String(stack.block),
        KAFKA_BROKERS: running.brokers.join(','),
        TEST_ADMIN_DATABASE_URL: running.postgres.adminUrl,
      };
      if (selected.has('int')) {
        failed = !(await stage('int', () => nx(['run-many', '-t', 'int', '--parallel=1'], testEnv))) || failed;
      }
      if (selected.has('e2e')) {
        failed =
          !(await stage('e2e', async () => {
            const chaos = tokens(stack, running);
            // Every app exports its spans to a small OTLP receiver, so a spec can follow one trace across processes.
            const spans = await startSpanSink(path.join(stack.runDir, 'spans.jsonl'));
            const supervisor = startApps(stack, running, chaos, say, false, {
              ...process.env,
              NODE_ENV: 'test',
              OTEL_EXPORTER_OTLP_ENDPOINT: spans.url,
              OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
              OTEL_BSP_SCHEDULE_DELAY: '200',
            });
            try {
              await waitUntilReady(stack, say, 120_000);
              const e2eEnv: NodeJS.ProcessEnv = {
                ...testEnv,
                CHAOS_TOKEN: chaos.chaosToken,
                ADMIN_TOKEN: chaos.adminToken,
                TEST_SPANS_FILE: spans.file,
              };
              for (const app of APPS) e2eEnv[urlEnv(app)] = appUrl(stack, app);
              return await nx(['run-many', '-t', 'e2e', '--parallel=1'], e2eEnv);
            } finally {
              await supervisor.stopAll();
              await spans.close();
            }
          })) || failed;
      }
    }
  } finally {
    const peak = await sampler?.stop();
    if (infra) await stopInfrastructure(stack, infra);
    releaseBlock(stack.block);
    const counts = testCounts();
    process.stdout.write('\nstage       result   seconds\n');
    for (const result of results) {
      process.stdout.write(
        `${result.name.padEnd(11)} ${(result.ok ? 'ok' : 'FAILED').padEnd(8)} ${result.seconds.toFixed(1).padStart(7)}${result.note ? `  ${result.note}` : ''}\n`,
      );
    }
    process.stdout.write(`total                ${((Date.now() - began) / 1000).toFixed(1).padStart(7)}\n`);
    if (peak !== undefined)
      process.stdout.write(`peak PostgreSQL client connections during the run: ${peak} (budget 70)\n`);
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed\n`);
    if (counts.failed > 0) failed = true;
  }
  return failed ? 1 : 0;
}
