import { randomUUID } from 'node:crypto';
import { percentile, record } from './harness.ts';
import { processUsage, say, withBenchStack } from './stack-harness.ts';

/**
 * The order saga end to end on a stack of its own (production build and
 * settings, its own port block, so it runs beside `npm start`): one customer
 * places orders one after another, and each is timed from POST /orders to
 * the moment GET shows it CONFIRMED. Then the memory of every process.
 *
 *   npm run bench:saga            (BENCH_ORDERS=100 by default)
 *
 * This is the sequential latency of one saga on an idle stack; throughput
 * under load is `npm run bench`'s job.
 */
const ORDERS = Number(process.env['BENCH_ORDERS'] ?? 100);

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function main(): Promise<void> {
  // The client polls its order every few milliseconds: far above the per-user limit meant for people.
  const env = { RATE_LIMIT_PER_USER_PER_MIN: '1000000', RATE_LIMIT_PER_IP_PER_MIN: '1000000' };
  await withBenchStack(env, async (bench) => {
    const api = `${bench.url('gateway')}/api/v1`;
    const email = `bench-${randomUUID()}@example.test`;
    const password = `pw-${randomUUID()}`;
    await json(
      await fetch(`${api}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password, name: 'Bench' }),
      }),
    );
    const { accessToken } = await json<{ accessToken: string }>(
      await fetch(`${api}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      }),
    );
    const auth = { authorization: `Bearer ${accessToken}` };

    const post: number[] = [];
    const confirmed: number[] = [];
    const warmUp = 5;
    for (let index = 0; index < ORDERS + warmUp; index++) {
      const started = performance.now();
      const { orderId } = await json<{ orderId: string }>(
        await fetch(`${api}/orders`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ items: [{ sku: 'STICKER-001', quantity: 1 }], paymentToken: 'tok_visa' }),
        }),
      );
      const accepted = performance.now();
      for (;;) {
        const order = await json<{ status: string }>(await fetch(`${api}/orders/${orderId}`, { headers: auth }));
        if (order.status === 'CONFIRMED') break;
        if (order.status !== 'PENDING') throw new Error(`order ${orderId} ended ${order.status}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      if (index >= warmUp) {
        post.push(accepted - started);
        confirmed.push(performance.now() - started);
      }
    }
    post.sort((a, b) => a - b);
    confirmed.sort((a, b) => a - b);
    const figure = (values: number[], p: number) => Number(percentile(values, p).toFixed(1));
    const latency = {
      orders: ORDERS,
      postOrdersMs: { p50: figure(post, 50), p99: figure(post, 99) },
      postToConfirmedMs: { p50: figure(confirmed, 50), p99: figure(confirmed, 99), max: figure(confirmed, 100) },
    };
    const memory: Record<string, { rssMb: number; peakRssMb: number } | undefined> = {};
    for (const [name, pid] of Object.entries(bench.pids())) {
      const usage = processUsage(pid);
      memory[name] = usage && { rssMb: usage.rssMb, peakRssMb: usage.peakRssMb };
    }

    process.stdout.write(
      `\n${ORDERS} orders, one at a time (after ${warmUp} warm-up orders)\n` +
        `  POST /orders            p50 ${latency.postOrdersMs.p50} ms   p99 ${latency.postOrdersMs.p99} ms\n` +
        `  POST → CONFIRMED        p50 ${latency.postToConfirmedMs.p50} ms   p99 ${latency.postToConfirmedMs.p99} ms   max ${latency.postToConfirmedMs.max} ms\n` +
        `\nprocess              RSS MB   peak RSS MB\n`,
    );
    for (const [name, usage] of Object.entries(memory)) {
      process.stdout.write(
        `  ${name.padEnd(18)} ${String(usage?.rssMb ?? '?').padStart(6)}   ${String(usage?.peakRssMb ?? '?').padStart(11)}\n`,
      );
    }
    say(`recorded ${record('saga-latency', { ...latency, memory, nodeEnv: 'production' })}`);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
