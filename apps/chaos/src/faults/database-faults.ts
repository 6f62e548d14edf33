import pg from 'pg';
import type { Fault } from './fault';

/**
 * Faults on a service's database, done as the PostgreSQL superuser (the
 * stack's admin connection, never the service's own role).
 */
export interface DatabaseTarget {
  /** A superuser connection, to a database other than the one under fault (e.g. `postgres`). */
  readonly adminUrl: string;
  /** `<stack>_<service database>`. */
  readonly database: string;
}

async function asAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** pg_terminate_backend for every session on the database but our own; returns how many were ended. */
async function terminate(client: pg.Client, database: string): Promise<number> {
  const result = await client.query<{ terminated: string }>(
    `select count(*) filter (where pg_terminate_backend(pid)) as terminated
       from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
    [database],
  );
  return Number(result.rows[0]?.terminated ?? 0);
}

/**
 * Every connection to the database is terminated at once: each open
 * transaction is rolled back, and the service's pool must notice and
 * reconnect. Nothing to undo.
 */
export function terminateConnections(target: DatabaseTarget, onTerminated?: (count: number) => void): Fault {
  return {
    kind: 'terminate_db_connections',
    description: `pg_terminate_backend every connection to ${target.database}`,
    async inject() {
      const count = await asAdmin(target.adminUrl, (client) => terminate(client, target.database));
      onTerminated?.(count);
    },
    async rollback() {
      // One-shot: the terminated sessions are gone; the service reconnects by itself.
    },
  };
}

/**
 * The database refuses connections (`allow_connections false`) and the open
 * ones are terminated, so the service can neither keep nor open one; the
 * rollback lets connections in again. Rolled back even when the inject
 * failed half-way (setting it true twice is harmless).
 */
export function refuseConnections(target: DatabaseTarget): Fault {
  const alter = (allow: boolean) => (client: pg.Client) =>
    client.query(`alter database ${client.escapeIdentifier(target.database)} with allow_connections ${allow}`);
  return {
    kind: 'refuse_db_connections',
    description: `${target.database} refuses connections`,
    async inject() {
      await asAdmin(target.adminUrl, async (client) => {
        await alter(false)(client);
        await terminate(client, target.database);
      });
    },
    async rollback() {
      await asAdmin(target.adminUrl, alter(true));
    },
  };
}
