import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type BreakerStates, formatBreakers, readBreakers } from './breakers';
import { runLoad } from './load';
import { checkTargetUrl } from './target';
import { DEFAULT_MIX, type LoadOptions, type LoadReport, type SecondSample, type WorkloadMix } from './types';

/**
 * `npm run chaos -- load`: runs the load generator against a stack started
 * with `npm start` (or the compose network), prints one line a second (rate,
 * errors, p50/p99, breaker states of the gateway and payment-service), stops
 * after the duration or on Ctrl-C, prints the summary and writes the report
 * to chaos/reports/load-<time>.json.
 */
export const LOAD_USAGE = `  load [--rate <n> | --users <n>] [--duration <s>] [--customers <n>] [--customers-file <file>]
       [--gateway <url>] [--payment-service <url>] [--max-in-flight <n>] [--mix <browse>/<order>/<cancel>]
       [--out <file>]
                     mixed load through the gateway: open loop at --rate requests/s
                     (default 20) or closed loop with --users virtual users; default
                     30 s, 20 customers, mix 70/25/5, gateway http://127.0.0.1:3000,
                     payment-service http://127.0.0.1:3004 (for its breaker states);
                     --customers-file keeps the customers (and their tokens) in a
                     file that later runs reuse instead of registering anew (unless
                     the stack no longer knows them: reset since);
                     Ctrl-C stops early; writes the report to --out, else to
                     chaos/reports/load-<time>.json
`;

const FLAGS = [
  '--rate',
  '--users',
  '--duration',
  '--customers',
  '--customers-file',
  '--gateway',
  '--payment-service',
  '--max-in-flight',
  '--mix',
  '--out',
] as const;
type Flag = (typeof FLAGS)[number];

function parseFlags(argv: readonly string[]): Partial<Record<Flag, string>> {
  const flags: Partial<Record<Flag, string>> = {};
  for (let index = 0; index < argv.length; index += 2) {
    const name = argv[index] as Flag;
    const value = argv[index + 1];
    if (!FLAGS.includes(name)) throw new Error(`load: unknown option "${String(argv[index])}"`);
    if (value === undefined || value.startsWith('--')) throw new Error(`load: ${name} needs a value`);
    flags[name] = value;
  }
  return flags;
}

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`load: ${flag} must be a positive number (got "${value}")`);
  return parsed;
}

function mixOf(value: string | undefined): WorkloadMix {
  if (value === undefined) return DEFAULT_MIX;
  const [browse, order, cancel, ...rest] = value.split('/').map(Number);
  if (browse === undefined || order === undefined || cancel === undefined || rest.length > 0) {
    throw new Error(`load: --mix is browse/order/cancel, e.g. 70/25/5 (got "${value}")`);
  }
  return { browse, order, cancel };
}

/** The repository's root (where nx.json is), for chaos/reports. */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
  }
  return process.cwd();
}

const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** Statuses other than the plain successes, e.g. "409×2 503×5 timeout×1". */
function unusual(byStatus: Readonly<Record<string, number>>): string {
  return Object.entries(byStatus)
    .filter(([status]) => !['200', '201', '202'].includes(status))
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
}

export function progressLine(
  sample: SecondSample,
  breakers: Readonly<Record<string, BreakerStates | 'unreachable' | undefined>>,
): string {
  const statuses = unusual(sample.byStatus);
  return [
    `${String(sample.second + 1).padStart(4)}s`,
    `${String(sample.requests).padStart(4)} req/s`,
    `errors ${sample.errors}`,
    ...(sample.dropped > 0 ? [`dropped ${sample.dropped}`] : []),
    `in flight ${sample.inFlight}`,
    `p50 ${ms(sample.p50Ms)}`,
    `p99 ${ms(sample.p99Ms)}`,
    `orders ${sample.ordersAccepted}`,
    ...(statuses ? [statuses] : []),
    ...Object.entries(breakers).map(([service, states]) => `| ${service}: ${formatBreakers(states)}`),
  ].join('  ');
}

function summary(report: LoadReport, file: string): string {
  const { totals } = report;
  const seconds = report.samples.length;
  const statuses = Object.entries(totals.byStatus)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  return (
    `load: ${totals.requests} requests in ${seconds} s (${(totals.requests / Math.max(1, seconds)).toFixed(1)}/s), ` +
    `${totals.errors} errors, ${totals.dropped} dropped; ` +
    `p50 ${ms(totals.p50Ms)}, p99 ${ms(totals.p99Ms)}, max ${ms(totals.maxMs)}\n` +
    `  by status: ${statuses || 'none'}\n` +
    `  orders accepted ${totals.ordersAccepted} (${report.orderIds.length} ids in the report), ` +
    `cancels accepted ${totals.cancelsAccepted}\n` +
    `  report: ${file}\n`
  );
}

export async function runLoadCommand(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags['--rate'] !== undefined && flags['--users'] !== undefined) {
    throw new Error('load: --rate (open loop) and --users (closed loop) exclude each other');
  }
  const users = number('--users', flags['--users']);
  const gatewayUrl = flags['--gateway'] ?? 'http://127.0.0.1:3000';
  const watched: Record<string, string> = {
    gateway: gatewayUrl,
    'payment-service': flags['--payment-service'] ?? 'http://127.0.0.1:3004',
  };
  // Checked before anything is sent, the breaker reads included.
  for (const url of Object.values(watched)) checkTargetUrl(url);
  const breakers: Record<string, BreakerStates | 'unreachable' | undefined> = {
    gateway: undefined,
    'payment-service': undefined,
  };

  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130);
    process.stdout.write('\nstopping: no new requests, waiting for those in flight (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  // Breaker states are read once a second beside the load, never counted in it.
  const polling = new AbortController();
  const poll = async (): Promise<void> => {
    while (!polling.signal.aborted) {
      await Promise.all(
        Object.entries(watched).map(async ([service, url]) => {
          breakers[service] = await readBreakers(url, 900);
        }),
      );
      await delay(1000, undefined, { signal: polling.signal }).catch(() => undefined);
    }
  };

  const options: LoadOptions = {
    gatewayUrl,
    ...(users === undefined
      ? { mode: 'open' as const, ratePerSecond: number('--rate', flags['--rate']) ?? 20 }
      : { mode: 'closed' as const, users }),
    durationSeconds: number('--duration', flags['--duration']) ?? 30,
    customers: number('--customers', flags['--customers']) ?? 20,
    ...(flags['--customers-file'] === undefined ? {} : { customersFile: path.resolve(flags['--customers-file']) }),
    mix: mixOf(flags['--mix']),
    ...(flags['--max-in-flight'] === undefined
      ? {}
      : { maxInFlight: number('--max-in-flight', flags['--max-in-flight']) ?? 0 }),
    onSample: (sample) => process.stdout.write(`${progressLine(sample, breakers)}\n`),
    onNotice: (line) => process.stdout.write(`load: ${line}\n`),
    signal: stop.signal,
  };
  const shape =
    options.mode === 'open' ? `open loop, ${options.ratePerSecond}/s` : `closed loop, ${options.users} users`;
  const { browse, order, cancel } = options.mix ?? DEFAULT_MIX;
  process.stdout.write(
    `load: ${shape} for ${options.durationSeconds} s against ${gatewayUrl} ` +
      `(${options.customers} customers, mix ${browse}/${order}/${cancel}); ` +
      `${options.customersFile ? `customers from ${options.customersFile}` : 'registering customers'}…\n`,
  );

  const polled = poll();
  let report: LoadReport;
  try {
    report = await runLoad(options);
  } finally {
    polling.abort();
    await polled;
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }

  // ISO time without colons, which some file systems refuse.
  const file = flags['--out']
    ? path.resolve(flags['--out'])
    : path.join(repositoryRoot(), 'chaos', 'reports', `load-${new Date().toISOString().replace(/:/g, '-')}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(summary(report, path.relative(process.cwd(), file)));
  return 0;
}
