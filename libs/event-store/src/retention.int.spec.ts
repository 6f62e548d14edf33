import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { EventStore } from './event-store';
import { migrate } from './migrations';
import { pruneInbox, pruneOutbox } from './retention';

describe('retention (real PostgreSQL)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('retention');
    await migrate(db.pool);
  });

  afterAll(() => db.drop());

  it('prunes old sent outbox rows and old inbox rows, never a pending row', async () => {
    const store = new EventStore(db.pool);
    const message = (key: string) => ({ id: randomUUID(), topic: 't', key, value: '{}' });
    await store.appendToStream(`s-${randomUUID()}`, 'no_stream', [{ type: 'E', data: {} }], {
      outbox: [message('old-sent'), message('new-sent'), message('old-pending')],
    });
    await db.pool.query(
      `update outbox set status = 'sent', sent_at = now() - interval '2 days' where key = 'old-sent'`,
    );
    await db.pool.query(`update outbox set status = 'sent', sent_at = now() where key = 'new-sent'`);
    await db.pool.query(`update outbox set created_at = now() - interval '30 days' where key = 'old-pending'`);
    await db.pool.query(
      `insert into inbox (consumer, message_id, received_at) values ('c', 'old', now() - interval '15 days'), ('c', 'new', now())`,
    );

    const day = 24 * 3600 * 1000;
    expect(await pruneOutbox(db.pool, day)).toBe(1);
    expect(await pruneInbox(db.pool, 14 * day)).toBe(1);
    const outbox = await db.pool.query<{ key: string }>('select key from outbox order by key');
    expect(outbox.rows.map((row) => row.key)).toEqual(['new-sent', 'old-pending']);
    const inbox = await db.pool.query<{ message_id: string }>('select message_id from inbox');
    expect(inbox.rows).toEqual([{ message_id: 'new' }]);
  });
});
