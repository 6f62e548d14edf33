import CircuitBreaker from 'opossum';
import { type Call, createPolicy, type Policy, type PolicyOptions } from '@shop/resilience';
import { record } from './harness.ts';

/**
 * What a policy costs a call that succeeds at once: the same resolved async
 * call, made one at a time, bare and through createPolicy(). Cases take
 * turns for several rounds (so a burst of load from elsewhere hits them all),
 * each after a warm-up; every call is timed, and the bare call's figures are
 * subtracted to give the overhead.
 * Target: the full policy (breaker + bulkhead + timeout + retry) adds <= 20 µs
 * per call on average.
 *
 *   npm run bench:policy            (BENCH_ITERATIONS=200000 calls per case by default)
 */
const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 200_000);
const ROUNDS = 5;
const WARM_UP = 20_000;
const TARGET_US = 20;
const say = (line: string) => process.stdout.write(`${line}\n`);

const call: Call<number> = async () => 42;
const signal = new AbortController().signal;

/**
 * createPolicy requires a timeout and a bulkhead: the timeout is armed and
 * cleared on every call, as in the full case; the bulkhead can never bind.
 */
const breakerOnly: PolicyOptions<number> = {
  name: 'bench-breaker-only',
  timeoutMs: 1_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 5_000,
  capacity: Number.MAX_SAFE_INTEGER,
};

/** As a service configures a read (libs/resilience/README.md); capacity 20 binds only under concurrency. */
const full: PolicyOptions<number> = {
  name: 'bench-full',
  timeoutMs: 1_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 5_000,
  capacity: 20,
  idempotent: true,
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 500 },
};

interface Case {
  readonly name: string;
  readonly run: () => Promise<unknown>;
  readonly samples: number[];
}

const policies: Policy<number>[] = [createPolicy(breakerOnly), createPolicy(full)];
// Opossum alone, to tell its share from the policy's own (AbortController, metrics, result object).
const bareBreaker = new CircuitBreaker((c: Call<number>, s: AbortSignal) => c(s), {
  timeout: false,
  enableSnapshots: false,
});
const timedBreaker = new CircuitBreaker((c: Call<number>, s: AbortSignal) => c(s), {
  timeout: 1_000,
  capacity: 20,
  enableSnapshots: false,
});
const [breakerPolicy, fullPolicy] = policies as [Policy<number>, Policy<number>];
const cases: Case[] = [
  { name: 'bare async call', run: () => call(signal), samples: [] },
  { name: 'opossum alone, no timeout', run: () => bareBreaker.fire(call, signal), samples: [] },
  { name: 'opossum alone, timeout + capacity', run: () => timedBreaker.fire(call, signal), samples: [] },
  { name: 'policy: breaker only', run: () => breakerPolicy.execute('k', call), samples: [] },
  { name: 'policy: breaker+bulkhead+timeout+retry', run: () => fullPolicy.execute('k', call), samples: [] },
];

/** Gives timers (opossum's rolling window) and I/O a turn, as a server between requests would. */
const breathe = () => new Promise((resolve) => setImmediate(resolve));

async function measure(c: Case, calls: number, keep: boolean): Promise<void> {
  for (let i = 0; i < calls; i++) {
    if (i % 1_000 === 0) await breathe();
    const started = performance.now();
    await c.run();
    const elapsed = performance.now() - started;
    if (keep) c.samples.push(elapsed * 1_000);
  }
}

function summary(samples: number[]): { meanUs: number; p50Us: number; p99Us: number } {
  const sorted = samples.toSorted((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length);
  const round = (x: number) => Number(x.toFixed(2));
  return { meanUs: round(mean), p50Us: round(at(50)), p99Us: round(at(99)) };
}

async function main(): Promise<void> {
  try {
    for (const c of cases) await measure(c, WARM_UP, false);
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with the next case: which one follows which moved the figures by ~0.5 µs.
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(k + round) % cases.length];
        if (c) await measure(c, Math.ceil(ITERATIONS / ROUNDS), true);
      }
    }
  } finally {
    for (const policy of policies) policy.shutdown();
    bareBreaker.shutdown();
    timedBreaker.shutdown();
  }

  const bare = summary(cases[0]?.samples ?? []);
  const results = cases.map((c) => {
    const s = summary(c.samples);
    const overhead = (x: number, y: number) => Number((x - y).toFixed(2));
    return {
      name: c.name,
      calls: c.samples.length,
      ...s,
      overheadMeanUs: overhead(s.meanUs, bare.meanUs),
      overheadP99Us: overhead(s.p99Us, bare.p99Us),
    };
  });

  say(
    `\n${'case (µs per call)'.padEnd(40)} ${'mean'.padStart(7)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'+mean'.padStart(7)} ${'+p99'.padStart(7)}`,
  );
  for (const r of results) {
    say(
      `${r.name.padEnd(40)} ${[r.meanUs, r.p50Us, r.p99Us, r.overheadMeanUs, r.overheadP99Us].map((x) => x.toFixed(2).padStart(7)).join(' ')}`,
    );
  }
  const worst = results.at(-1);
  const met = worst !== undefined && worst.overheadMeanUs <= TARGET_US;
  say(
    `\nfull policy overhead: ${worst?.overheadMeanUs} µs mean, ${worst?.overheadP99Us} µs p99 per call (target mean <= ${TARGET_US} µs: ${met ? 'met' : 'NOT met'})`,
  );
  say(
    `recorded ${record('policy-overhead', { iterations: ITERATIONS, rounds: ROUNDS, warmUp: WARM_UP, targetOverheadUs: TARGET_US, results, targetMet: met })}`,
  );
}

await main();
