import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { getPostgreSQLEventStore, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { EventStore, migrate } from '@shop/event-store';
import { interleavedClosedLoops, type LoadResult, printTable, record, scratchDatabase } from './harness.ts';

/**
 * Event append throughput: 8 concurrent writers, one event per append, each
 * writer to a stream of its own, with the expected version checked. Three
 * cases in the same run on the same server, taking turns in five rounds:
 *
 * - the ceiling: a raw single-row INSERT per transaction;
 * - ours: the event plus its outbox message, one statement (one round trip);
 * - Emmett (@event-driven-io/emmett-postgresql): the event only, no outbox
 *   row; begin, a call to its plpgsql append function, commit (three round
 *   trips), updating its stream row and inserting the message.
 *
 * Target (docs): ours at least 60% of the ceiling.
 *
 *   npm run bench:append            (BENCH_SECONDS=10 by default)
 */
const WRITERS = 8;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
/** The cases take turns (SECONDS / ROUNDS each), so load from elsewhere on the machine falls on all three. */
const ROUNDS = 5;
const say = (line: string) => process.stdout.write(`${line}\n`);

const emmettVersion = (
  JSON.parse(
    readFileSync(new URL('../node_modules/@event-driven-io/emmett-postgresql/package.json', import.meta.url), 'utf8'),
  ) as { version: string }
).version;

async function main(): Promise<void> {
  const db = await scratchDatabase('append');
  const pool = new pg.Pool({ connectionString: db.url, max: WRITERS });
  let emmett: PostgresEventStore | undefined;
  try {
    await migrate(pool);
    await pool.query(
      'create table raw_rows (id bigint generated always as identity primary key, stream text not null, data jsonb not null)',
    );
    const run = randomUUID().slice(0, 8);
    const store = new EventStore(pool);
    // Its own pool (pg's default of 10; 8 writers use 8), its schema created before the clock starts.
    // Its driver (dumbo) swaps pg's json/jsonb parsers process-wide; none of these appends reads json back.
    emmett = getPostgreSQLEventStore(db.url);
    await emmett.schema.migrate();
    const emmettStore = emmett;

    const results = await interleavedClosedLoops(
      [
        {
          name: 'ceiling: raw INSERT, one row per transaction',
          operation: async (worker, i) => {
            await pool.query('insert into raw_rows (stream, data) values ($1, $2)', [
              `raw-${worker}`,
              JSON.stringify({ i }),
            ]);
          },
        },
        {
          name: 'event store: append 1 event + outbox row',
          operation: async (worker, i) => {
            const streamId = `bench-${run}-${worker}`;
            const id = randomUUID();
            await store.appendToStream(streamId, i === 0 ? 'no_stream' : i, [{ id, type: 'Ticked', data: { i } }], {
              outbox: [{ id, topic: 'bench.events', key: streamId, value: JSON.stringify({ i }) }],
            });
          },
        },
        {
          name: `emmett ${emmettVersion}: append 1 event, no outbox`,
          operation: async (worker, i) => {
            // Expected version 0n creates the stream (fails if it exists); n checks its version, as ours does.
            await emmettStore.appendToStream(`emmett-${run}-${worker}`, [{ type: 'Ticked', data: { i } }], {
              expectedStreamVersion: BigInt(i),
            });
          },
        },
      ],
      WRITERS,
      SECONDS,
      ROUNDS,
    );
    const [ceiling, ours, theirs] = results as [LoadResult, LoadResult, LoadResult];
    printTable(results);
    const share = (a: LoadResult, b: LoadResult) => (b.perSecond === 0 ? 0 : a.perSecond / b.perSecond);
    const ratios = {
      oursToCeiling: share(ours, ceiling),
      emmettToCeiling: share(theirs, ceiling),
      oursToEmmett: share(ours, theirs),
    };
    say('');
    say(`event store / ceiling: ${(ratios.oursToCeiling * 100).toFixed(1)}% (target >= 60%)`);
    say(`emmett / ceiling:      ${(ratios.emmettToCeiling * 100).toFixed(1)}%`);
    say(`event store / emmett:  ${ratios.oursToEmmett.toFixed(2)}x`);
    say('not the same work: ours also writes an outbox row (and may NOTIFY the relay) in its one');
    say('statement; Emmett writes the event and its stream row, in begin / append function / commit.');
    say(
      `recorded ${record('event-append', {
        writers: WRITERS,
        seconds: SECONDS,
        rounds: ROUNDS,
        emmettPostgresqlVersion: emmettVersion,
        results,
        ratioToCeiling: ratios.oursToCeiling,
        ratios,
      })}`,
    );
  } finally {
    await emmett?.close();
    await pool.end();
    await db.drop();
  }
}

await main();
