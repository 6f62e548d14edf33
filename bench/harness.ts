import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** Shared by the benchmarks: a scratch database, a fixed-duration load loop, and result files. */
export const adminUrl =
  process.env['DATABASE_URL'] ??
  `postgres://${process.env['PGUSER'] ?? 'postgres'}@${process.env['PGHOST'] ?? '127.0.0.1'}:${process.env['PGPORT'] ?? '5432'}/postgres`;

export async function scratchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bench_${prefix}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await client.query(`drop database if exists ${name}`);
      await client.end();
    },
  };
}

export interface LoadResult {
  readonly name: string;
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The p-th percentile of ascending values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export type Operation = (worker: number, iteration: number) => Promise<void>;

/** Runs `operation` from `workers` concurrent loops for `seconds`, after a short warm-up. */
export async function closedLoop(
  name: string,
  workers: number,
  seconds: number,
  operation: Operation,
): Promise<LoadResult> {
  const [result] = await interleavedClosedLoops([{ name, operation }], workers, seconds, 1);
  if (!result) throw new Error('no result');
  return result;
}

/**
 * Runs each case's `operation` from `workers` concurrent loops, the cases
 * taking turns for `rounds` rounds of `seconds / rounds` each, so that load
 * from elsewhere on the machine falls on all of them alike. Each turn starts
 * with an uncounted warm-up (1 s in the first round, 250 ms after); a
 * worker's iteration count goes on across rounds.
 */
export async function interleavedClosedLoops(
  cases: readonly { readonly name: string; readonly operation: Operation }[],
  workers: number,
  seconds: number,
  rounds: number,
): Promise<LoadResult[]> {
  const state = cases.map(() => ({ latencies: [] as number[], counters: Array.from({ length: workers }, () => 0) }));
  for (let round = 0; round < rounds; round++) {
    for (const [index, { operation }] of cases.entries()) {
      const { latencies, counters } = state[index] ?? { latencies: [], counters: [] };
      await runLoop(round === 0 ? 1_000 : 250, seconds / rounds, counters, latencies, operation);
    }
  }
  return cases.map(({ name }, index) => {
    const latencies = (state[index]?.latencies ?? []).sort((a, b) => a - b);
    return {
      name,
      operations: latencies.length,
      seconds,
      perSecond: Math.round(latencies.length / seconds),
      p50Ms: Number(percentile(latencies, 50).toFixed(3)),
      p99Ms: Number(percentile(latencies, 99).toFixed(3)),
    };
  });
}

async function runLoop(
  warmUpMs: number,
  seconds: number,
  counters: number[],
  latencies: number[],
  operation: Operation,
): Promise<void> {
  const warmUpUntil = Date.now() + warmUpMs;
  let stopAt = 0;
  await Promise.all(
    counters.map(async (_, worker) => {
      for (;;) {
        const now = Date.now();
        if (stopAt === 0 && now >= warmUpUntil) stopAt = now + seconds * 1000;
        if (stopAt !== 0 && now >= stopAt) return;
        const started = performance.now();
        const sequence = counters[worker] ?? 0;
        counters[worker] = sequence + 1;
        await operation(worker, sequence);
        if (stopAt !== 0) latencies.push(performance.now() - started);
      }
    }),
  );
}

export function printTable(results: readonly LoadResult[]): void {
  process.stdout.write(
    `\n${'case'.padEnd(44)} ${'ops/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(44)} ${String(r.perSecond).padStart(8)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)}\n`,
    );
  }
}

export function record(benchmark: string, figures: object): string {
  const dir = path.join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${benchmark}-${new Date().toISOString().slice(0, 10)}-${os.hostname()}.json`);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark, recordedAt: new Date().toISOString(), machine, ...figures }, null, 2)}\n`,
  );
  return file;
}
