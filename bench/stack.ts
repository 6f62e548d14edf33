import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { adminUrl, interleavedClosedLoops, percentile, record, scratchDatabase } from './harness.ts';
import { type BenchStack, processUsage, type ProcessUsage, say, withBenchStack } from './stack-harness.ts';

/**
 * The whole stack under load, against the machine's own limit, in one run:
 *
 * 1. the ceiling: single-row INSERT commits/s on the same PostgreSQL with 8
 *    clients (one event per commit is the floor of every order's cost);
 * 2. the highest open-loop order rate the stack sustains for a step with no
 *    errors and a saga p99 under 1 s (at most five steps, rising);
 * 3. at a fixed order rate: POST /orders, POST → CONFIRMED (the saga's own
 *    clock: the order's placed and confirmed times) and GET /products
 *    latencies, with a browsing load beside the orders;
 * 4. CPU seconds and peak RSS per process;
 * 5. the audit of the five invariants (a run that loses data has no result).
 *
 * Load comes from the chaos toolkit's generator (`npm run chaos -- load`),
 * the one the experiments use. Every SKU is restocked to RESTOCK units first,
 * so orders are confirmed or declined by payment, not rejected for stock.
 * The fixed-rate part runs at BENCH_FIXED_RATE when the steps sustained it,
 * else one step below the highest rate they sustained (at the first step's
 * rate when only that one held, or none: then the minute measures a
 * backlog). A rate the stack cannot keep up with only measures a growing
 * queue, and so does the highest sustained one once the browsing load runs
 * beside it: on 2026-12-06 a run sustained 175/s (saga p99 751 ms), and its
 * fixed minute at 175/s with browsing took 4,365 ms.
 *
 * Besides latency, the figures that explain it: CPU milliseconds per order
 * of every process (PostgreSQL's backends included), writing transactions
 * per order (transaction ids handed out) and transactions per order of every
 * database (pg_stat_database, which counts read-only statements too).
 *
 *   npm run bench        BENCH_RATES=75,100,125,150,175  BENCH_STEP_SECONDS=60
 *                        BENCH_FIXED_RATE=300  BENCH_FIXED_SECONDS=60  BENCH_BROWSE_RATE=50
 *                        BENCH_WARMUP_SECONDS=60
 *
 * A warm-up at the first step's rate comes first and is not measured:
 * without it the first steps measured V8 and the broker's JVM compiling
 * their hot paths (the broker's JIT alone took it from about 13 % to 30-45 %
 * of a core for the first two minutes at 50 orders/s), the pools opening
 * their connections and the first fetches of every consumer. Every run of
 * the generator shares one customers file, so the customers register and log
 * in once, in the warm-up, and no step pays for password hashing.
 */
const RATES = (process.env['BENCH_RATES'] ?? '75,100,125,150,175').split(',').map(Number).slice(0, 5);
const STEP_SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 60);
const FIXED_RATE = Number(process.env['BENCH_FIXED_RATE'] ?? 300);
const FIXED_SECONDS = Number(process.env['BENCH_FIXED_SECONDS'] ?? 60);
const BROWSE_RATE = Number(process.env['BENCH_BROWSE_RATE'] ?? 50);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 60);
const RESTOCK = 1_000_000;
const SAGA_P99_LIMIT_MS = 1_000;
const root = path.resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'shop-bench-'));
const customersFile = path.join(scratch, 'customers.json');
/** Customers of an order load at `rate`: enough that no one customer's orders queue behind each other. */
const customersAt = (rate: number): number => Math.max(20, Math.ceil(rate / 25));

interface LoadTotals {
  readonly requests: number;
  readonly errors: number;
  readonly dropped: number;
  readonly byStatus: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ordersAccepted: number;
}

/**
 * kafkajs sets timers with negative durations (Node warns and waits 1 ms);
 * the chaos CLI's audit reads the dead-letter topics with it. Off, as the
 * npm scripts and the supervisor turn it off.
 */
const QUIET_KAFKAJS = ['--disable-warning=TimeoutNegativeWarning'];

/** Runs the chaos load generator as its own process and returns its report's totals. */
function load(bench: BenchStack, name: string, args: readonly string[]): Promise<LoadTotals> {
  const out = path.join(scratch, `${name}.json`);
  const child = spawn(
    process.execPath,
    [
      ...QUIET_KAFKAJS,
      path.join(root, 'apps/chaos/dist/main.js'),
      'load',
      '--gateway',
      bench.url('gateway'),
      '--payment-service',
      bench.url('payment-service'),
      '--out',
      out,
      '--customers-file',
      customersFile,
      ...args,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let last = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = chunk.toString('utf8').trim().split('\n');
    last = lines.at(-1) ?? last;
    process.stdout.write(`  ${name}: ${last}\n`);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load ${name} exited ${code}`));
      resolve((JSON.parse(readFileSync(out, 'utf8')) as { totals: LoadTotals }).totals);
    });
  });
}

/** The saga's own duration (placed → terminal, from the order's events) of the orders placed in a window. */
async function sagaLatency(stackId: string, from: Date, to: Date): Promise<{ p50: number; p99: number; n: number }> {
  const url = new URL(adminUrl);
  url.pathname = `/${stackId}_order`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ ms: number }>(
      `select extract(epoch from (updated_at - created_at)) * 1000 as ms from orders
        where status = 'CONFIRMED' and created_at >= $1 and created_at < $2 order by 1`,
      [from, to],
    );
    const values = rows.map((row) => Number(row.ms));
    return { p50: Math.round(percentile(values, 50)), p99: Math.round(percentile(values, 99)), n: values.length };
  } finally {
    await client.end();
  }
}

/** Until no order of the stack is PENDING (or the deadline), so each step starts from quiet. */
async function quiet(stackId: string, deadlineMs = 60_000): Promise<void> {
  const url = new URL(adminUrl);
  url.pathname = `/${stackId}_order`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from orders where status = 'PENDING'",
      );
      if ((rows[0]?.n ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await client.end();
  }
}

/** The sustained step rate just below `best` (the edge), else `best`, else the first step's rate. */
function fixedRateBelow(steps: ReadonlyArray<{ rate: number; sustained: boolean }>, best: number): number {
  const below = steps.filter((step) => step.sustained && step.rate < best).at(-1)?.rate;
  return below ?? (best > 0 ? best : (steps[0]?.rate ?? 1));
}

async function ceiling(): Promise<number> {
  const db = await scratchDatabase('ceiling');
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  // Dropping the scratch database ends its connections; an idle one may hear of it first.
  pool.on('error', () => undefined);
  try {
    await pool.query('create table raw_rows (id bigint generated always as identity primary key, data jsonb not null)');
    const [result] = await interleavedClosedLoops(
      [
        {
          name: 'ceiling',
          operation: async (_worker, i) => {
            await pool.query('insert into raw_rows (data) values ($1)', [JSON.stringify({ i })]);
          },
        },
      ],
      8,
      10,
      5,
    );
    return result?.perSecond ?? 0;
  } finally {
    await pool.end();
    await db.drop();
  }
}

/** The audit, again until it holds or 30 s pass: stock and money settle within 5 s of a terminal status. */
async function settledAudit(bench: BenchStack): Promise<{ ok: boolean; output: string }> {
  const until = Date.now() + 30_000;
  for (;;) {
    const result = await chaos(bench, 'audit');
    if (result.ok || Date.now() >= until) return result;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** A command of the chaos toolkit's CLI against the bench stack: its exit code and what it printed. */
function chaos(
  bench: BenchStack,
  command: string,
  args: readonly string[] = [],
): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...QUIET_KAFKAJS,
        path.join(root, 'apps/chaos/dist/main.js'),
        command,
        '--stack',
        bench.stack.id,
        '--block',
        String(bench.stack.block),
        ...args,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ok: code === 0, output: output.trim() }));
  });
}

/** Every SKU up to RESTOCK units (a delivery per SKU, as an operator records one). */
async function restock(bench: BenchStack): Promise<string> {
  const { ok, output } = await chaos(bench, 'restock', ['--to', String(RESTOCK)]);
  if (!ok) throw new Error(`restock failed: ${output}`);
  return output;
}

/**
 * CPU seconds of PostgreSQL: every server process now alive, plus what the
 * server's exited processes used (the kernel adds a reaped child's CPU to
 * its parent's cutime and cstime). The services' pools close a connection
 * that stayed idle for 10 s; without the second part, that backend's CPU
 * would drop out of the figure between two readings.
 */
function postgresCpuSeconds(): number {
  const processes = new Map<number, { parent: number; own: number; reaped: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('postgres')) continue;
      // After the parenthesised name: the parent's pid is field 4, utime and stime 14 and 15, cutime and cstime 16 and 17.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      processes.set(Number(entry), {
        parent: fields[1] ?? 0,
        own: (fields[11] ?? 0) + (fields[12] ?? 0),
        reaped: (fields[13] ?? 0) + (fields[14] ?? 0),
      });
    } catch {
      // The process ended while we looked.
    }
  }
  let ticks = 0;
  // The server's own process (the one whose parent is not PostgreSQL) reaps the others.
  for (const { parent, own, reaped } of processes.values()) ticks += own + (processes.has(parent) ? 0 : reaped);
  return ticks / 100;
}

/** Commits so far per database of the stack (pg_stat_database counts every transaction, reads included). */
async function commitsByDatabase(stackId: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string; commits: string }>(
      'select datname, xact_commit::text as commits from pg_stat_database where datname like $1',
      [`${stackId}\\_%`],
    );
    return Object.fromEntries(rows.map((row) => [row.datname.slice(stackId.length + 1), Number(row.commits)]));
  } finally {
    await client.end();
  }
}

/**
 * Transaction ids the server has handed out: one per transaction that
 * writes (a read-only one gets none), whichever database, this call's own
 * included. The bench's stack is what writes during the run.
 */
async function writingTransactions(): Promise<bigint> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
    return BigInt(rows[0]?.xid ?? '0');
  } finally {
    await client.end();
  }
}

/** Orders by status, and every service's event count (events per order is a design figure). */
async function orderAndEventCounts(stackId: string): Promise<{ byStatus: Record<string, number>; events: number }> {
  let events = 0;
  let byStatus: Record<string, number> = {};
  for (const database of ['user', 'order', 'inventory', 'payment']) {
    const url = new URL(adminUrl);
    url.pathname = `/${stackId}_${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      // Inventory's stock deliveries are the benchmark's set-up, not order traffic.
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from events where type not in ('StockReceived', 'ProductAdded')",
      );
      events += rows[0]?.n ?? 0;
      if (database === 'order') {
        const statuses = await client.query<{ status: string; n: number }>(
          'select status, count(*)::int as n from orders group by status',
        );
        byStatus = Object.fromEntries(statuses.rows.map((row) => [row.status, row.n]));
      }
    } finally {
      await client.end();
    }
  }
  return { byStatus, events };
}

async function main(): Promise<void> {
  say('measuring the ceiling: single-row INSERT commits/s, 8 clients, 10 s');
  const ceilingPerSecond = await ceiling();
  say(`ceiling ${ceilingPerSecond} commits/s`);

  // The pool size `npm start` gives every service (the bench's own port block would get the test runner's 3).
  const result = await withBenchStack({ DB_POOL_MAX: process.env['DB_POOL_MAX'] ?? '6' }, async (bench) => {
    say(await restock(bench));
    if (WARMUP_SECONDS > 0) {
      const rate = Math.max(1, RATES[0] ?? 20);
      // Every customer a step will need signs up here.
      const customers = customersAt(Math.max(...RATES, FIXED_RATE));
      say(`warm-up: ${rate} orders/s for ${WARMUP_SECONDS} s, ${customers} customers signing up (not measured)`);
      await load(bench, 'warm-up', [
        '--rate',
        String(rate),
        '--duration',
        String(WARMUP_SECONDS),
        '--mix',
        '0/100/0',
        '--customers',
        String(customers),
      ]);
      await quiet(bench.stack.id);
    }
    // What the warm-up left is subtracted from the run's counts.
    const warm = await orderAndEventCounts(bench.stack.id);
    const usageBefore = Object.fromEntries(
      Object.entries(bench.pids()).map(([name, pid]) => [name, processUsage(pid)]),
    );
    const postgresBefore = postgresCpuSeconds();
    const commitsBefore = await commitsByDatabase(bench.stack.id);
    const writesBefore = await writingTransactions();
    const steps: Array<{ rate: number; sustained: boolean; totals: LoadTotals; saga: { p50: number; p99: number } }> =
      [];
    for (const rate of RATES) {
      say(`step: ${rate} orders/s for ${STEP_SECONDS} s`);
      const from = new Date();
      const totals = await load(bench, `step-${rate}`, [
        '--rate',
        String(rate),
        '--duration',
        String(STEP_SECONDS),
        '--mix',
        '0/100/0',
        '--customers',
        String(customersAt(rate)),
      ]);
      await quiet(bench.stack.id);
      const saga = await sagaLatency(bench.stack.id, from, new Date());
      const sustained = totals.errors === 0 && totals.dropped === 0 && saga.p99 < SAGA_P99_LIMIT_MS;
      steps.push({ rate, sustained, totals, saga });
      say(
        `  ${rate}/s: ${totals.requests} requests, ${totals.errors} errors, ${totals.dropped} dropped, ` +
          `saga p50 ${saga.p50} ms p99 ${saga.p99} ms → ${sustained ? 'sustained' : 'not sustained'}`,
      );
      if (!sustained) break;
    }
    const best = steps.filter((step) => step.sustained).at(-1)?.rate ?? 0;
    const fixedRate = best >= FIXED_RATE ? FIXED_RATE : fixedRateBelow(steps, best);

    say(`fixed: ${fixedRate} orders/s with ${BROWSE_RATE} GET /products/s beside them, ${FIXED_SECONDS} s`);
    const from = new Date();
    const [orders, browse] = await Promise.all([
      load(bench, 'fixed-orders', [
        '--rate',
        String(fixedRate),
        '--duration',
        String(FIXED_SECONDS),
        '--mix',
        '0/100/0',
        '--customers',
        String(customersAt(fixedRate)),
      ]),
      load(bench, 'fixed-browse', [
        '--rate',
        String(BROWSE_RATE),
        '--duration',
        String(FIXED_SECONDS),
        '--mix',
        '100/0/0',
        '--customers',
        '5',
      ]),
    ]);
    await quiet(bench.stack.id);
    const saga = await sagaLatency(bench.stack.id, from, new Date());

    const after = await orderAndEventCounts(bench.stack.id);
    const counts = {
      events: after.events - warm.events,
      byStatus: Object.fromEntries(
        Object.entries(after.byStatus).map(([status, n]) => [status, n - (warm.byStatus[status] ?? 0)]),
      ),
    };
    const ordersEnded = Object.entries(counts.byStatus)
      .filter(([status]) => status !== 'PENDING')
      .reduce((sum, [, n]) => sum + n, 0);
    const perOrder = (value: number) => Number(((value * 1000) / Math.max(1, ordersEnded)).toFixed(2));
    const usage: Record<string, ProcessUsage & { cpuSecondsUnderLoad: number; cpuMsPerOrder: number }> = {};
    for (const [name, pid] of Object.entries(bench.pids())) {
      const now = processUsage(pid);
      if (!now) continue;
      const cpuSecondsUnderLoad = Number((now.cpuSeconds - (usageBefore[name]?.cpuSeconds ?? 0)).toFixed(2));
      usage[name] = { ...now, cpuSecondsUnderLoad, cpuMsPerOrder: perOrder(cpuSecondsUnderLoad) };
    }
    const postgresSeconds = Number((postgresCpuSeconds() - postgresBefore).toFixed(2));
    const commitsAfter = await commitsByDatabase(bench.stack.id);
    const writesPerOrder = Number(
      (Number((await writingTransactions()) - writesBefore - 1n) / Math.max(1, ordersEnded)).toFixed(2),
    );
    const commitsPerOrder = Object.fromEntries(
      Object.entries(commitsAfter).map(([database, commits]) => [
        database,
        Number(((commits - (commitsBefore[database] ?? 0)) / Math.max(1, ordersEnded)).toFixed(2)),
      ]),
    );
    const audited = await settledAudit(bench);
    return {
      steps,
      best,
      fixed: { rate: fixedRate, orders, browse, saga },
      orders: {
        ended: ordersEnded,
        byStatus: counts.byStatus,
        eventsPerOrder: counts.events / Math.max(1, ordersEnded),
      },
      usage,
      postgres: { cpuSecondsUnderLoad: postgresSeconds, cpuMsPerOrder: perOrder(postgresSeconds) },
      commitsPerOrder,
      writesPerOrder,
      audit: audited,
    };
  });

  const { steps, best, fixed, usage, postgres, commitsPerOrder, writesPerOrder, orders } = result;
  const totalCpuMsPerOrder =
    Object.values(usage).reduce((sum, figures) => sum + figures.cpuMsPerOrder, 0) + postgres.cpuMsPerOrder;
  const commitsTotal = Object.values(commitsPerOrder).reduce((sum, n) => sum + n, 0);
  const lines = [
    `| figure | value |`,
    `| --- | --- |`,
    `| ceiling: single-row INSERT commits/s (8 clients) | ${ceilingPerSecond} |`,
    `| highest sustained order rate (0 errors, saga p99 < 1 s, ${STEP_SECONDS} s steps) | ${best}/s |`,
    `| orders/s per ceiling commits/s; writing commits/s at that rate | ${(best / ceilingPerSecond).toFixed(4)}; ${Math.round(best * writesPerOrder)} (${((best * writesPerOrder * 100) / ceilingPerSecond).toFixed(0)} % of the ceiling) |`,
    ...steps.map(
      (step) =>
        `| step ${step.rate}/s | ${step.totals.errors} errors, ${step.totals.dropped} dropped, saga p50/p99 ${step.saga.p50}/${step.saga.p99} ms${step.sustained ? '' : ' (not sustained)'} |`,
    ),
    `| at ${fixed.rate} orders/s: POST /orders p50/p99 | ${fixed.orders.p50Ms}/${fixed.orders.p99Ms} ms (${fixed.orders.errors} errors, ${fixed.orders.dropped} dropped) |`,
    `| at ${fixed.rate} orders/s: POST → CONFIRMED p50/p99 | ${fixed.saga.p50}/${fixed.saga.p99} ms (${fixed.saga.n} confirmed) |`,
    `| at ${fixed.rate} orders/s: GET /products p50/p99 (${BROWSE_RATE}/s beside) | ${fixed.browse.p50Ms}/${fixed.browse.p99Ms} ms |`,
    `| orders ended in the run | ${orders.ended} (${Object.entries(orders.byStatus)
      .map(([status, n]) => `${status} ${n}`)
      .join(', ')}) |`,
    `| events per order (all services) | ${orders.eventsPerOrder.toFixed(2)} |`,
    `| writing transactions per order (transaction ids, whole server) | ${writesPerOrder} |`,
    `| transactions per order, read-only ones included (pg_stat_database) | ${commitsTotal.toFixed(1)} (${Object.entries(
      commitsPerOrder,
    )
      .map(([database, n]) => `${database} ${n}`)
      .join(', ')}) |`,
    `| CPU ms per order, all processes | ${totalCpuMsPerOrder.toFixed(1)} (2 cores: at most ${Math.round(2000 / totalCpuMsPerOrder)} orders/s) |`,
    ...Object.entries(usage).map(
      ([name, figures]) =>
        `| ${name}: CPU ms per order, peak RSS | ${figures.cpuMsPerOrder} ms, ${figures.peakRssMb} MB |`,
    ),
    `| postgresql (all backends): CPU ms per order | ${postgres.cpuMsPerOrder} ms |`,
    `| invariants after the run | ${result.audit.ok ? 'hold' : 'VIOLATED'} |`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n${result.audit.output}\n`);
  const file = record('stack', {
    ceilingPerSecond,
    ...result,
    totalCpuMsPerOrder,
    stepSeconds: STEP_SECONDS,
    browseRate: BROWSE_RATE,
  });
  writeFileSync(path.join(scratch, 'table.md'), `${lines.join('\n')}\n`);
  say(`recorded ${file}`);
  if (!result.audit.ok) {
    say('the audit found violations: this run has no result');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
