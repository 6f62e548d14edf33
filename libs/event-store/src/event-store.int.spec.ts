import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase, waitFor } from '@shop/testing';
import { appendSql, appendStreamsSql, checkpointOf, EventStore } from './event-store';
import { migrate } from './migrations';
import { lockStreams } from './stream-locks';
import { ConcurrencyError, START, type Checkpoint, type RecordedEvent } from './types';

describe('event store (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('events', { max: 21 });
    await migrate(db.pool);
    store = new EventStore(db.pool);
  });

  afterAll(() => db.drop());

  const event = (type: string, data: Record<string, unknown> = {}) => ({ type, data });

  it('applies its migrations once, however often it is run', async () => {
    expect(await migrate(db.pool)).toEqual([]);
    const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from schema_migrations');
    expect(rows[0]?.n).toBe(4);
  });

  it('appends and reads a stream with gap-free versions', async () => {
    const stream = `order-${randomUUID()}`;
    const first = await store.appendToStream(stream, 'no_stream', [event('Placed', { n: 1 }), event('Paid')]);
    const second = await store.appendToStream(stream, 2, [event('Shipped')]);
    expect([first.nextVersion, second.nextVersion]).toEqual([2, 3]);
    const read = await store.readStream(stream);
    expect(read.map((e) => [e.streamVersion, e.type])).toEqual([
      [1, 'Placed'],
      [2, 'Paid'],
      [3, 'Shipped'],
    ]);
    expect(read[0]?.data).toEqual({ n: 1 });
    expect((await store.readStream(stream, 3)).map((e) => e.type)).toEqual(['Shipped']);
  });

  it('raises ConcurrencyError when the expected version is not the current one', async () => {
    const stream = `order-${randomUUID()}`;
    await store.appendToStream(stream, 'no_stream', [event('Placed')]);
    await expect(store.appendToStream(stream, 'no_stream', [event('Placed')])).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(store.appendToStream(stream, 5, [event('Paid')])).rejects.toMatchObject({ actual: 1 });
    expect((await store.appendToStream(stream, 'any', [event('Noted')])).nextVersion).toBe(2);
  });

  it('appends on a named last event only when that event is the one at the expected version', async () => {
    const stream = `order-${randomUUID()}`;
    const placed = randomUUID();
    await store.appendToStream(stream, 'no_stream', [{ ...event('Placed'), id: placed }]);
    // The right version with another event there (a state cached from a transaction that rolled back).
    await expect(store.appendToStream(stream, 1, [event('Paid')], { lastEventId: randomUUID() })).rejects.toMatchObject(
      {
        name: 'ConcurrencyError',
        actual: 1,
      },
    );
    expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['Placed']);
    expect((await store.appendToStream(stream, 1, [event('Paid')], { lastEventId: placed })).nextVersion).toBe(2);
  });

  describe('appendOnce: inbox, events, outbox and alongside writes in one statement', () => {
    const seen = (stream: string) => ({
      sql: 'insert into seen (stream_id, version) select $1, $2::int from appended',
      values: [stream, 1],
    });
    const count = async (sql: string, values: unknown[]) =>
      (await db.pool.query<{ n: number }>(`select count(*)::int as n from ${sql}`, values)).rows[0]?.n;

    beforeAll(async () => {
      await db.pool.query('create table seen (stream_id text, version int)');
    });

    it('records the message with the append; the same message again writes nothing', async () => {
      const stream = `order-${randomUUID()}`;
      const message = { consumer: 'test', messageId: randomUUID() };
      const reply = { id: randomUUID(), topic: 't', key: stream, value: '{}' };
      const first = await store.appendOnce(message, stream, 'no_stream', [event('Placed')], {
        outbox: [reply],
        alongside: [seen(stream)],
      });
      expect(first).toMatchObject({ nextVersion: 1 });
      const again = await store.appendOnce(message, stream, 1, [event('Placed')], {
        outbox: [{ ...reply, id: randomUUID() }],
        alongside: [seen(stream)],
      });
      expect(again).toBe('duplicate');
      expect(await count('events where stream_id = $1', [stream])).toBe(1);
      expect(await count('outbox where key = $1', [stream])).toBe(1);
      expect(await count('seen where stream_id = $1', [stream])).toBe(1);
      expect(await count('inbox where message_id = $1', [message.messageId])).toBe(1);
    });

    it('a failed check writes nothing, not even the inbox row, so the message can be handled again', async () => {
      const stream = `order-${randomUUID()}`;
      await store.appendToStream(stream, 'no_stream', [event('Placed')]);
      const message = { consumer: 'test', messageId: randomUUID() };
      await expect(
        store.appendOnce(message, stream, 1, [event('Paid')], { lastEventId: randomUUID(), alongside: [seen(stream)] }),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(store.appendOnce(message, stream, 0, [event('Paid')])).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await count('inbox where message_id = $1', [message.messageId])).toBe(0);
      expect(await count('seen where stream_id = $1', [stream])).toBe(0);
      expect(await store.appendOnce(message, stream, 1, [event('Paid')], { alongside: [seen(stream)] })).toMatchObject({
        nextVersion: 2,
      });
      expect(await count('seen where stream_id = $1', [stream])).toBe(1);
    });

    it('writes nothing while another transaction holds the stream lock, so a locked writer is never overtaken', async () => {
      const stream = `order-${randomUUID()}`;
      await store.appendToStream(stream, 'no_stream', [event('Placed')]);
      const holder = await db.pool.connect();
      try {
        await holder.query('begin');
        await lockStreams(holder, [stream]);
        const message = { consumer: 'test', messageId: randomUUID() };
        await expect(store.appendOnce(message, stream, 1, [event('Paid')])).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await count('inbox where message_id = $1', [message.messageId])).toBe(0);
        await holder.query('commit');
        expect(await store.appendOnce(message, stream, 1, [event('Paid')])).toMatchObject({ nextVersion: 2 });
      } finally {
        await holder.query('rollback').catch(() => undefined);
        holder.release();
      }
    });

    it('refuses to append no events (nothing would tell a taken claim from success)', async () => {
      await expect(store.appendOnce(undefined, `order-${randomUUID()}`, 'no_stream', [])).rejects.toThrow(
        'at least one event',
      );
    });

    it('numbers the parameters of several alongside writes after its own', async () => {
      const stream = `order-${randomUUID()}`;
      await store.appendOnce(undefined, stream, 'no_stream', [event('Placed')], {
        alongside: [
          seen(stream),
          { sql: 'insert into seen (stream_id, version) select $2, $1::int from appended', values: [7, stream] },
        ],
      });
      const { rows } = await db.pool.query<{ version: number }>(
        'select version from seen where stream_id = $1 order by version',
        [stream],
      );
      expect(rows.map((row) => row.version)).toEqual([1, 7]);
    });
  });

  describe('appendOnceToStreams: one decision on several streams in one statement', () => {
    const count = async (sql: string, values: unknown[]) =>
      (await db.pool.query<{ n: number }>(`select count(*)::int as n from ${sql}`, values)).rows[0]?.n;

    it('appends every stream with its own versions, the claim and the outbox; the same claim again writes nothing', async () => {
      const [a, b] = [`sku-${randomUUID()}`, `sku-${randomUUID()}`];
      await store.appendToStream(a, 'no_stream', [event('Received'), event('Received')]);
      const message = { consumer: 'test', messageId: randomUUID() };
      const reply = { id: randomUUID(), topic: 't', key: a, value: '{}' };
      const results = await store.appendOnceToStreams(
        message,
        [
          { streamId: b, expected: 'no_stream', events: [event('Added'), event('Received')] },
          { streamId: a, expected: 2, events: [event('Reserved')] },
        ],
        { outbox: [reply] },
      );
      expect(results).not.toBe('duplicate');
      const [onB, onA] = results as Exclude<typeof results, 'duplicate'>;
      expect([onB?.nextVersion, onA?.nextVersion]).toEqual([2, 3]);
      expect(onB?.positions).toHaveLength(2);
      const readA = await store.readStream(a);
      expect(readA.map((e) => [e.streamVersion, e.type])).toEqual([
        [1, 'Received'],
        [2, 'Received'],
        [3, 'Reserved'],
      ]);
      expect(onA?.positions).toEqual([readA[2]?.position]);
      expect((await store.readStream(b)).map((e) => [e.streamVersion, e.type])).toEqual([
        [1, 'Added'],
        [2, 'Received'],
      ]);
      expect(await count('outbox where message_id = $1', [reply.id])).toBe(1);
      expect(await count('inbox where message_id = $1', [message.messageId])).toBe(1);

      const again = await store.appendOnceToStreams(message, [
        { streamId: a, expected: 3, events: [event('Reserved')] },
      ]);
      expect(again).toBe('duplicate');
      expect(await count('events where stream_id = $1', [a])).toBe(3);
    });

    it('one stream whose check fails (version, or another event at it) writes nothing on any, not even the claim', async () => {
      const [a, b] = [`sku-${randomUUID()}`, `sku-${randomUUID()}`];
      const onA = randomUUID();
      await store.appendToStream(a, 'no_stream', [{ ...event('Received'), id: onA }]);
      await store.appendToStream(b, 'no_stream', [event('Received')]);
      const message = { consumer: 'test', messageId: randomUUID() };
      const reply = { id: randomUUID(), topic: 't', key: a, value: '{}' };
      const attempt = (expectedB: number, lastOnB?: string) =>
        store.appendOnceToStreams(
          message,
          [
            { streamId: a, expected: 1, events: [event('Reserved')], lastEventId: onA },
            {
              streamId: b,
              expected: expectedB,
              events: [event('Reserved')],
              ...(lastOnB ? { lastEventId: lastOnB } : {}),
            },
          ],
          { outbox: [reply] },
        );
      await expect(attempt(2)).rejects.toMatchObject({ name: 'ConcurrencyError', locked: false });
      await expect(attempt(1, randomUUID())).rejects.toMatchObject({ name: 'ConcurrencyError', locked: false });
      expect(await count('events where stream_id = any($1)', [[a, b]])).toBe(2);
      expect(await count('inbox where message_id = $1', [message.messageId])).toBe(0);
      expect(await count('outbox where message_id = $1', [reply.id])).toBe(0);
      expect(await attempt(1)).toHaveLength(2);
      expect(await count('events where stream_id = any($1)', [[a, b]])).toBe(4);
    });

    it('a required condition that does not hold writes nothing, not even the claim; once it holds, all is written', async () => {
      await db.pool.query('create table if not exists blocked_keys (k text primary key)');
      const [a, b] = [`sku-${randomUUID()}`, `sku-${randomUUID()}`];
      const key = randomUUID();
      await db.pool.query('insert into blocked_keys (k) values ($1)', [key]);
      const message = { consumer: 'test', messageId: randomUUID() };
      const reply = { id: randomUUID(), topic: 't', key: a, value: '{}' };
      // The condition's and the alongside write's parameters are numbered after the claim's.
      const options = {
        outbox: [reply],
        requires: { sql: 'not exists (select 1 from blocked_keys where k = $1)', values: [key] },
        alongside: [{ sql: 'insert into blocked_keys (k) select $1 from appended', values: [`${key}-after`] }],
      };
      const appends = [
        { streamId: a, expected: 'no_stream' as const, events: [event('Added')] },
        { streamId: b, expected: 'no_stream' as const, events: [event('Added')] },
      ];
      await expect(store.appendOnceToStreams(message, appends, options)).rejects.toMatchObject({
        name: 'ConcurrencyError',
        locked: false,
      });
      expect(await count('events where stream_id = any($1)', [[a, b]])).toBe(0);
      expect(await count('inbox where message_id = $1', [message.messageId])).toBe(0);
      expect(await count('outbox where message_id = $1', [reply.id])).toBe(0);
      expect(await count('blocked_keys where k = $1', [`${key}-after`])).toBe(0);

      await db.pool.query('delete from blocked_keys where k = $1', [key]);
      expect(await store.appendOnceToStreams(message, appends, options)).toHaveLength(2);
      expect(await count('events where stream_id = any($1)', [[a, b]])).toBe(2);
      expect(await count('blocked_keys where k = $1', [`${key}-after`])).toBe(1);
      // The claim is still checked after the condition: the same message again is a duplicate.
      expect(
        await store.appendOnceToStreams(message, [{ streamId: a, expected: 1, events: [event('Added')] }], options),
      ).toBe('duplicate');

      // One stream, through appendOnce: the same rule.
      const c = `order-${randomUUID()}`;
      const other = { consumer: 'test', messageId: randomUUID() };
      await db.pool.query('insert into blocked_keys (k) values ($1)', [c]);
      const once = () =>
        store.appendOnce(other, c, 'no_stream', [event('Placed')], {
          requires: { sql: 'not exists (select 1 from blocked_keys where k = $1)', values: [c] },
        });
      await expect(once()).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await count('inbox where message_id = $1', [other.messageId])).toBe(0);
      await db.pool.query('delete from blocked_keys where k = $1', [c]);
      expect(await once()).toMatchObject({ nextVersion: 1 });
    });

    it("writes nothing while another transaction holds one of the streams' locks", async () => {
      const [a, b] = [`sku-${randomUUID()}`, `sku-${randomUUID()}`];
      const holder = await db.pool.connect();
      try {
        await holder.query('begin');
        await lockStreams(holder, [b]);
        const message = { consumer: 'test', messageId: randomUUID() };
        const appends = [
          { streamId: a, expected: 'no_stream' as const, events: [event('Added')] },
          { streamId: b, expected: 'no_stream' as const, events: [event('Added')] },
        ];
        // `locked`: the states may still be the streams' (a cache keeps them).
        await expect(store.appendOnceToStreams(message, appends)).rejects.toMatchObject({
          name: 'ConcurrencyError',
          locked: true,
        });
        expect(await count('events where stream_id = any($1)', [[a, b]])).toBe(0);
        expect(await count('inbox where message_id = $1', [message.messageId])).toBe(0);
        await holder.query('commit');
        expect(await store.appendOnceToStreams(message, appends)).toHaveLength(2);
      } finally {
        await holder.query('rollback').catch(() => undefined);
        holder.release();
      }
    });

    it('looks every stream up by index: its generic plan never scans the events table', async () => {
      // Enough rows that a scan would be the planner's choice only if the statement forced it.
      await db.pool.query(
        `insert into events (stream_id, stream_version, event_id, type, data)
         select 'filler-' || (n / 10), n % 10 + 1, gen_random_uuid(), 'Filler', '{}'
           from generate_series(0, 4999) as n`,
      );
      await db.pool.query('analyze events');
      const client = await db.pool.connect();
      try {
        await client.query('set plan_cache_mode = force_generic_plan');
        for (const [name, sql] of [
          ['streams', appendStreamsSql(undefined, [])],
          ['one', appendSql(undefined, [], true)],
        ] as const) {
          await client.query(`prepare plan_${name} as ${sql}`);
          const values =
            name === 'streams'
              ? `'{sku-a,sku-b}', '{3,4}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', null, false,
                 '{${randomUUID()},${randomUUID()}}', '{}'`
              : `'sku-a', 3, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', null, false, '${randomUUID()}'`;
          const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(
            `explain (format json) execute plan_${name}(${values})`,
          );
          const scans = JSON.stringify(rows[0]?.['QUERY PLAN']).match(/"Seq Scan","[^}]*"Relation Name":"events"/g);
          expect({ name, scans }).toEqual({ name, scans: null });
        }
      } finally {
        // Its session settings and statements go with the connection, not back to the pool.
        client.release(true);
      }
    });

    it('lets exactly one of racing decisions on a shared stream append', async () => {
      const shared = `sku-${randomUUID()}`;
      await store.appendToStream(shared, 'no_stream', [event('Received')]);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          store.appendOnceToStreams({ consumer: 'test', messageId: randomUUID() }, [
            { streamId: `sku-${randomUUID()}`, expected: 'no_stream', events: [event('Added')] },
            { streamId: shared, expected: 1, events: [event('Reserved')] },
          ]),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
      }
      expect(await count('events where stream_id = $1', [shared])).toBe(2);
    });
  });

  it('lets exactly one of two racing writers append at a version', async () => {
    const stream = `sku-${randomUUID()}`;
    await store.appendToStream(stream, 'no_stream', [event('Received')]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => store.appendToStream(stream, 1, [event('Reserved')])),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected.every((o) => o.reason instanceof ConcurrencyError)).toBe(true);
    expect((await store.readStream(stream)).map((e) => e.streamVersion)).toEqual([1, 2]);
  });

  it('appends to several streams all or nothing, with the outbox in the same transaction', async () => {
    const [a, b] = [`sku-${randomUUID()}`, `sku-${randomUUID()}`];
    await store.appendToStream(b, 'no_stream', [event('Received')]);
    const message = { id: randomUUID(), topic: 't', key: a, value: '{}' };
    await expect(
      store.appendToStreams(
        [
          { streamId: a, expected: 'no_stream', events: [event('Reserved')] },
          { streamId: b, expected: 'no_stream', events: [event('Reserved')] },
        ],
        { outbox: [message] },
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.readStream(a)).toEqual([]);
    const outbox = await db.pool.query('select 1 from outbox where message_id = $1', [message.id]);
    expect(outbox.rowCount).toBe(0);

    await store.appendToStreams(
      [
        { streamId: a, expected: 'no_stream', events: [event('Reserved')] },
        { streamId: b, expected: 1, events: [event('Reserved')] },
      ],
      { outbox: [message] },
    );
    expect((await store.readStream(b)).map((e) => e.streamVersion)).toEqual([1, 2]);
    const written = await db.pool.query<{ status: string }>('select status from outbox where message_id = $1', [
      message.id,
    ]);
    expect(written.rows).toEqual([{ status: 'pending' }]);
  });

  it('never lets a follower of readAll skip or repeat an event, whatever order transactions commit in', async () => {
    const writers = 20;
    const perWriter = 10;
    const prefix = `race-${randomUUID()}`;
    const seen = new Map<string, number>();
    let checkpoint: Checkpoint = START;
    // Start after everything already in the store.
    for (let batch = await store.readAll(checkpoint); batch.length > 0; batch = await store.readAll(checkpoint)) {
      checkpoint = checkpointOf(batch.at(-1) as RecordedEvent);
    }

    /** The follower: reads everything readAll offers from its checkpoint, as a projection would. */
    const follow = async () => {
      for (
        let batch = await store.readAll(checkpoint, 50);
        batch.length > 0;
        batch = await store.readAll(checkpoint, 50)
      ) {
        for (const e of batch) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
        checkpoint = checkpointOf(batch.at(-1) as RecordedEvent);
      }
    };

    const written: string[] = [];
    for (let round = 0; round < perWriter; round++) {
      // Every writer appends inside a transaction it keeps open: positions are handed out in one order...
      const open = await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          const client = await db.pool.connect();
          try {
            await client.query('begin');
            const id = randomUUID();
            const { positions } = await store.appendToStream(
              `${prefix}-${writer}`,
              'any',
              [{ id, type: 'Tick', data: { writer, round } }],
              { client },
            );
            return { client, id, position: positions[0] ?? 0n };
          } catch (error) {
            await client.query('rollback').catch(() => undefined);
            client.release();
            throw error;
          }
        }),
      );
      // ...and they commit in the reverse order, the follower reading after each commit: it sees
      // higher positions committed while lower ones are still in flight.
      open.sort((a, b) => (a.position > b.position ? -1 : a.position < b.position ? 1 : 0));
      for (const { client, id } of open) {
        await client.query('commit');
        client.release();
        written.push(id);
        await follow();
      }
    }
    // 'settled' holds back what committed after the oldest transaction still open on the server, and
    // other databases' transactions count too (transaction ids are the cluster's): poll until it settles.
    await waitFor('the follower to have read every committed event', async () => {
      await follow();
      return written.every((id) => seen.has(id));
    });

    const mine = [...seen].filter(([id]) => written.includes(id));
    expect(mine).toHaveLength(writers * perWriter);
    expect(mine.every(([, times]) => times === 1)).toBe(true);
  }, 60_000);
});
