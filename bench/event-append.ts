import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EventStore, migrate } from '@shop/event-store';
import { closedLoop, type LoadResult, printTable, record, scratchDatabase } from './harness.ts';

/**
 * Event append throughput: 8 concurrent writers, one event per append (with
 * its outbox message), against the machine's ceiling measured in the same run
 * on the same server: a raw single-row INSERT per transaction.
 * Target (docs): at least 60% of the ceiling.
 *
 *   npm run bench:append            (BENCH_SECONDS=10 by default)
 */
const WRITERS = 8;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);

async function main(): Promise<void> {
  const db = await scratchDatabase('append');
  const pool = new pg.Pool({ connectionString: db.url, max: WRITERS });
  try {
    await migrate(pool);
    await pool.query(
      'create table raw_rows (id bigint generated always as identity primary key, stream text not null, data jsonb not null)',
    );
    const results: LoadResult[] = [];

    results.push(
      await closedLoop('ceiling: raw INSERT, one row per transaction', WRITERS, SECONDS, async (worker, i) => {
        await pool.query('insert into raw_rows (stream, data) values ($1, $2)', [
          `raw-${worker}`,
          JSON.stringify({ i }),
        ]);
      }),
    );

    const store = new EventStore(pool);
    const run = randomUUID().slice(0, 8);
    results.push(
      await closedLoop('event store: append 1 event + outbox row', WRITERS, SECONDS, async (worker, i) => {
        const streamId = `bench-${run}-${worker}`;
        const id = randomUUID();
        await store.appendToStream(streamId, i === 0 ? 'no_stream' : i, [{ id, type: 'Ticked', data: { i } }], {
          outbox: [{ id, topic: 'bench.events', key: streamId, value: JSON.stringify({ i }) }],
        });
      }),
    );

    printTable(results);
    const [ceiling, ours] = results;
    const ratio = ours && ceiling ? ours.perSecond / ceiling.perSecond : 0;
    process.stdout.write(`\nevent store / ceiling: ${(ratio * 100).toFixed(1)}% (target >= 60%)\n`);
    process.stdout.write(
      `recorded ${record('event-append', { writers: WRITERS, seconds: SECONDS, results, ratioToCeiling: ratio })}\n`,
    );
  } finally {
    await pool.end();
    await db.drop();
  }
}

await main();
