import { randomUUID } from 'node:crypto';
import { logLevel } from 'kafkajs';
import { createKafka, createProducer } from '@shop/messaging';
import pg from 'pg';
import { EventStore, kafkaOutboxPublisher, migrate, OutboxRelay, type PendingMessage } from '@shop/event-store';
import { startKafka, stopKafka } from '@shop/stack/kafka';
import { stackFor } from '@shop/stack/stack';
import { record, scratchDatabase } from './harness.ts';

/**
 * Outbox relay latency: appends arrive at a fixed rate (open loop, so a slow
 * relay cannot slow the load down), and each message's time from its append
 * committing to Kafka acknowledging its publish is recorded.
 * Target (docs): p99 <= 50 ms at 2,000 events/s.
 *
 *   npm run bench:relay        (BENCH_RATE=2000 BENCH_SECONDS=10; KAFKA_BROKERS to use a running broker)
 */
const RATE = Number(process.env['BENCH_RATE'] ?? 2_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
/** The first second warms up the broker's and Node's JIT and is not counted. */
const WARM_UP = RATE;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const stack = stackFor('bench', 4);
  const started = process.env['KAFKA_BROKERS'] ? undefined : await startKafka(stack, say);
  const brokers = process.env['KAFKA_BROKERS']?.split(',') ?? started?.brokers ?? [];
  const db = await scratchDatabase('relay');
  const pool = new pg.Pool({ connectionString: db.url, max: 12 });
  const kafka = createKafka({ clientId: 'bench-relay', brokers }, { logLevel: logLevel.NOTHING });
  const topic = `bench.relay.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await migrate(pool);
    const store = new EventStore(pool);
    const committedAt = new Map<string, number>();
    const latencies: number[] = [];
    const kafkaPublisher = kafkaOutboxPublisher(producer);
    const relay = new OutboxRelay(
      pool,
      {
        async publish(messages: readonly PendingMessage[]) {
          await kafkaPublisher.publish(messages);
          const ackAt = performance.now();
          for (const message of messages) {
            const at = committedAt.get(message.messageId);
            if (at !== undefined) latencies.push(Math.max(0, ackAt - at));
          }
        },
      },
      { listenConnectionString: db.url, batchSize: 500 },
    );
    relay.start();

    const total = RATE * SECONDS + WARM_UP;
    const begin = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = begin + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const id = randomUUID();
      const key = `order-${i % 500}`;
      inFlight.push(
        store
          .appendToStream(`${key}-${i}`, 'no_stream', [{ id, type: 'Ticked', data: { i } }], {
            outbox: [{ id, topic, key, value: JSON.stringify({ i }) }],
          })
          .then(() => {
            if (i >= WARM_UP) committedAt.set(id, performance.now());
          }),
      );
    }
    await Promise.all(inFlight);
    const achieved = total / ((performance.now() - begin) / 1000);
    const deadline = Date.now() + 30_000;
    while (latencies.length < total - WARM_UP && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await relay.stop();

    latencies.sort((a, b) => a - b);
    const at = (p: number) =>
      Number((latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0).toFixed(2));
    const figures = {
      targetRate: RATE,
      achievedRate: Math.round(achieved),
      seconds: SECONDS,
      messages: total - WARM_UP,
      published: latencies.length,
      p50Ms: at(50),
      p99Ms: at(99),
      maxMs: Number((latencies.at(-1) ?? 0).toFixed(2)),
    };
    say(
      `\ncommit -> Kafka ack at ${figures.achievedRate} events/s (target ${RATE}): p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms (target p99 <= 50 ms)`,
    );
    say(`published ${figures.published} of ${total - WARM_UP} measured messages`);
    say(`recorded ${record('outbox-relay', figures)}`);
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await pool.end();
    await db.drop();
    if (started?.startedPid !== undefined) await stopKafka(stack);
  }
}

await main();
