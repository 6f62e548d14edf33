import pg from 'pg';
import { DATABASES } from './apps.ts';
import { databaseName, provision, serviceDatabaseUrl, type ServerAddress } from './postgres.ts';
import { stackFromEnv, stackSecrets } from './stack.ts';

/**
 * One database and one login role per service: each role can work in its own
 * database and is refused by every other one.
 */
const adminUrl = process.env['TEST_ADMIN_DATABASE_URL'];
if (!adminUrl) throw new Error('TEST_ADMIN_DATABASE_URL is not set: run the tests through `npm test`');

const stack = stackFromEnv();
const secrets = stackSecrets(stack);
const url = new URL(adminUrl);
const server: ServerAddress = { host: url.hostname, port: Number(url.port || 5432), adminUrl };

async function connectAs(role: string, database: string): Promise<pg.Client> {
  const connectionString = new URL(serviceDatabaseUrl(server, stack, secrets, role));
  connectionString.pathname = `/${databaseName(stack, database)}`;
  const client = new pg.Client({ connectionString: connectionString.toString() });
  await client.connect();
  return client;
}

describe('provisioning (real PostgreSQL)', () => {
  beforeAll(async () => {
    // Provisioning twice in a row (npm test already ran it once) must be harmless.
    await provision(server, stack, secrets);
    await provision(server, stack, secrets);
  });

  it.each(DATABASES)('the %s role creates, writes and reads in its own database', async (database) => {
    const client = await connectAs(database, database);
    try {
      await client.query('create table if not exists provisioning_probe (id int primary key)');
      await client.query('insert into provisioning_probe values (1) on conflict do nothing');
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from provisioning_probe');
      expect(rows[0]?.n).toBe(1);
      await client.query('drop table provisioning_probe');
    } finally {
      await client.end();
    }
  });

  it('the order role cannot connect to the inventory database', async () => {
    await expect(connectAs('order', 'inventory')).rejects.toMatchObject({ code: '42501' });
  });

  it('no role can connect to another service database', async () => {
    const refused: string[] = [];
    for (const role of DATABASES) {
      for (const database of DATABASES.filter((other) => other !== role)) {
        const outcome = await connectAs(role, database).then(
          async (client) => {
            await client.end();
            return 'connected';
          },
          (error: { code?: string }) => error.code,
        );
        if (outcome === '42501') refused.push(`${role}->${database}`);
      }
    }
    expect(refused).toHaveLength(DATABASES.length * (DATABASES.length - 1));
  });

  it('the service roles are not superusers and cannot create databases or roles', async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{
        rolname: string;
        rolsuper: boolean;
        rolcreatedb: boolean;
        rolcreaterole: boolean;
      }>('select rolname, rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = any($1)', [
        DATABASES.map((database) => databaseName(stack, database)),
      ]);
      expect(rows).toHaveLength(DATABASES.length);
      for (const row of rows) expect([row.rolsuper, row.rolcreatedb, row.rolcreaterole]).toEqual([false, false, false]);
    } finally {
      await admin.end();
    }
  });
});
