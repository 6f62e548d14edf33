import { readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { APPS, appByName } from '@shop/stack/apps';
import { kafkaPaths, kafkaPid } from '@shop/stack/kafka';
import {
  build,
  type Infrastructure,
  startApps,
  startInfrastructure,
  stopInfrastructure,
  tokens,
  waitUntilReady,
} from '@shop/stack/run-stack';
import { appUrl, findFreeBlock, releaseBlock, type Stack, stackFor } from '@shop/stack/stack';
import { adminUrl } from './harness.ts';

/**
 * The benchmarks that need the whole stack start it the way `npm start` does
 * (build, Kafka, PostgreSQL, provisioning, every app under the supervisor),
 * with production settings, as stack `bench` on a port block of its own, so
 * they run beside `npm start` and stop everything they started.
 */
export const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);

export interface BenchStack {
  readonly stack: Stack;
  readonly infra: Infrastructure;
  readonly url: (app: string) => string;
  /** The pid of each app and of Kafka (for CPU and memory figures). */
  pids(): Record<string, number | undefined>;
}

export async function withBenchStack<T>(
  extraEnv: NodeJS.ProcessEnv,
  work: (bench: BenchStack) => Promise<T>,
): Promise<T> {
  const stack = stackFor('bench', await findFreeBlock(1));
  const env = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ...extraEnv };
  await build(say);
  await forgetEarlierRuns(stack);
  const infra = await startInfrastructure(stack, say);
  const supervisor = startApps(stack, infra, tokens(stack, infra, env), say, false, env);
  try {
    await waitUntilReady(stack, say, 120_000);
    return await work({
      stack,
      infra,
      url: (app) => appUrl(stack, appByName(app)),
      pids: () => ({
        ...Object.fromEntries(APPS.map((app) => [app.name, supervisor.pid(app.name)])),
        kafka: kafkaPid(stack),
      }),
    });
  } finally {
    await supervisor.stopAll();
    await stopInfrastructure(stack, infra);
    releaseBlock(stack.block);
  }
}

/**
 * Every run starts from empty databases and an empty broker: what an earlier
 * run left (orders still in flight when it stopped, messages not yet
 * consumed, outbox rows to prune) would otherwise be worked off during this
 * run's measurements.
 */
async function forgetEarlierRuns(stack: Stack): Promise<void> {
  if (kafkaPid(stack) === undefined && !process.env['KAFKA_BROKERS']) {
    rmSync(kafkaPaths(stack).dataDir, { recursive: true, force: true });
  }
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const app of APPS) {
      if (!app.database) continue;
      const name = `${stack.id}_${app.database}`;
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await client.query(`drop database if exists "${name}"`);
    }
  } finally {
    await client.end();
  }
  say('dropped the databases and the broker data of earlier bench runs');
}

export interface ProcessUsage {
  /** User + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

/** CPU time and memory of a process from Linux /proc; undefined when it is gone. */
export function processUsage(pid: number | undefined): ProcessUsage | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime and stime in clock ticks (100/s).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      cpuSeconds: ticks / 100,
      rssMb: Math.round(kb('VmRSS') / 1024),
      peakRssMb: Math.round(kb('VmHWM') / 1024),
    };
  } catch {
    return undefined;
  }
}
