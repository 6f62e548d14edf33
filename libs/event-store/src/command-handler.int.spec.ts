import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { handleCommand, loadAggregate } from './command-handler';
import type { Decider } from './decider';
import { EventStore } from './event-store';
import { migrate } from './migrations';
import { loadSnapshot } from './snapshots';

/** A small decider for the tests: a counter that refuses to go below zero. */
type CounterEvent = { type: 'Added'; data: { by: number } } | { type: 'Removed'; data: { by: number } };
type CounterCommand = { kind: 'add'; by: number } | { kind: 'remove'; by: number };
interface CounterState {
  readonly value: number;
  readonly changes: number;
}

const counter: Decider<CounterState, CounterCommand, CounterEvent> = {
  initialState: () => ({ value: 0, changes: 0 }),
  decide(command, state) {
    if (command.kind === 'add') return [{ type: 'Added', data: { by: command.by } }];
    if (state.value < command.by) throw new Error('not enough');
    return [{ type: 'Removed', data: { by: command.by } }];
  },
  evolve(state, event) {
    switch (event.type) {
      case 'Added':
        return { value: state.value + event.data.by, changes: state.changes + 1 };
      case 'Removed':
        return { value: state.value - event.data.by, changes: state.changes + 1 };
      default: {
        const unknown: never = event;
        return unknown;
      }
    }
  },
};

describe('command handling (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('commands', { max: 12 });
    await migrate(db.pool);
    store = new EventStore(db.pool);
  });

  afterAll(() => db.drop());

  it('retries against fresh state when concurrent commands collide, losing none', async () => {
    const stream = `counter-${randomUUID()}`;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        handleCommand(store, db.pool, counter, stream, { kind: 'add', by: 1 }, { maxRetries: 20 }),
      ),
    );
    const { state, version } = await loadAggregate(store, db.pool, counter, stream);
    expect(state.value).toBe(10);
    expect(version).toBe(10);
  });

  it('refuses a command the decider refuses, writing nothing', async () => {
    const stream = `counter-${randomUUID()}`;
    await handleCommand(store, db.pool, counter, stream, { kind: 'add', by: 2 });
    await expect(handleCommand(store, db.pool, counter, stream, { kind: 'remove', by: 3 })).rejects.toThrow(
      'not enough',
    );
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it('gives the same state from snapshot + tail as from the whole stream', async () => {
    const stream = `counter-${randomUUID()}`;
    for (let i = 1; i <= 23; i++) {
      const command: CounterCommand = i % 4 === 0 ? { kind: 'remove', by: 1 } : { kind: 'add', by: i };
      await handleCommand(store, db.pool, counter, stream, command, { snapshotEvery: 5 });
    }
    const snapshot = await loadSnapshot<CounterState>(db.pool, stream);
    expect(snapshot?.version).toBe(20);

    const fromSnapshot = await loadAggregate(store, db.pool, counter, stream);
    const fromStream = (await store.readStream(stream)).reduce(
      (state, event) => counter.evolve(state, { type: event.type, data: event.data } as CounterEvent),
      counter.initialState(),
    );
    expect(fromSnapshot).toEqual({ state: fromStream, version: 23 });
    expect(fromSnapshot.state.changes).toBe(23);
  });

  it('writes the outbox messages of a command in the same transaction as its events', async () => {
    const stream = `counter-${randomUUID()}`;
    await handleCommand(
      store,
      db.pool,
      counter,
      stream,
      { kind: 'add', by: 5 },
      {
        outbox: (events, state, version) => [
          { id: randomUUID(), topic: 'counter.events', key: stream, value: JSON.stringify({ state, version, events }) },
        ],
      },
    );
    const { rows } = await db.pool.query<{ value: string }>('select value from outbox where key = $1', [stream]);
    expect(rows.map((row) => JSON.parse(row.value))).toEqual([
      { state: { value: 5, changes: 1 }, version: 1, events: [{ type: 'Added', data: { by: 5 } }] },
    ]);
  });
});
