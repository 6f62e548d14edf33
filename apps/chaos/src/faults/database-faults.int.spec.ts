import pg from 'pg';
import { adminDatabaseUrl, createTestDatabase, type TestDatabase, waitFor } from '@shop/testing';
import { refuseConnections, terminateConnections } from './database-faults';

/**
 * The database faults against a scratch database on the real PostgreSQL
 * server, done as its superuser the way a chaos run does them to a service's
 * database.
 */
let db: TestDatabase;
const opened: pg.Client[] = [];

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // A terminated session reports an error event; the test looks at the failed query instead.
  client.on('error', () => undefined);
  await client.connect();
  opened.push(client);
  return client;
}

async function sessions(): Promise<number> {
  const admin = await connect(adminDatabaseUrl());
  try {
    const result = await admin.query<{ n: number }>(
      'select count(*)::int as n from pg_stat_activity where datname = $1',
      [db.name],
    );
    return result.rows[0]?.n ?? -1;
  } finally {
    await admin.end();
  }
}

async function allowsConnections(): Promise<boolean> {
  const admin = await connect(adminDatabaseUrl());
  try {
    const result = await admin.query<{ datallowconn: boolean }>(
      'select datallowconn from pg_database where datname = $1',
      [db.name],
    );
    return result.rows[0]?.datallowconn ?? false;
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('chaos_faults');
});

afterAll(async () => {
  await refuseConnections({ adminUrl: adminDatabaseUrl(), database: db.name }).rollback();
  await Promise.allSettled(opened.map((client) => client.end()));
  await db.drop();
});

describe('terminate_db_connections', () => {
  it("ends every session on the service's database, and the service can connect again", async () => {
    const held = [await connect(db.url), await connect(db.url)];
    expect(await sessions()).toBeGreaterThanOrEqual(2);
    let terminated = -1;
    const fault = terminateConnections({ adminUrl: adminDatabaseUrl(), database: db.name }, (count) => {
      terminated = count;
    });

    await fault.inject();

    expect(terminated).toBeGreaterThanOrEqual(2);
    for (const client of held) await expect(client.query('select 1')).rejects.toThrow();
    await waitFor('the terminated sessions to be gone', async () => (await sessions()) === 0, { timeoutMs: 5_000 });
    // One-shot: nothing to undo, new connections work.
    await fault.rollback();
    const again = await connect(db.url);
    expect((await again.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('refuse_db_connections', () => {
  it('refuses new connections and ends open ones until the rollback allows them again', async () => {
    const held = await connect(db.url);
    const fault = refuseConnections({ adminUrl: adminDatabaseUrl(), database: db.name });

    await fault.inject();

    expect(await allowsConnections()).toBe(false);
    await expect(held.query('select 1')).rejects.toThrow();
    await expect(connect(db.url)).rejects.toThrow(/not currently accepting connections/);

    await fault.rollback();

    expect(await allowsConnections()).toBe(true);
    const again = await connect(db.url);
    expect((await again.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('can be rolled back twice (the run rolls back whatever the method already did)', async () => {
    const fault = refuseConnections({ adminUrl: adminDatabaseUrl(), database: db.name });
    await fault.inject();
    await fault.rollback();
    await fault.rollback();
    expect(await allowsConnections()).toBe(true);
  });

  it('fails to inject on a database that does not exist, naming it', async () => {
    const fault = refuseConnections({ adminUrl: adminDatabaseUrl(), database: `${db.name}_missing` });
    await expect(fault.inject()).rejects.toThrow(/does not exist/);
  });
});
