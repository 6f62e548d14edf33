import pg from 'pg';
import { adminDatabaseUrl } from './infra';
import { uniqueName } from './names';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool on the fresh database (4 connections unless asked for more); ended by drop(). */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file, on the test run's server, named
 * after the stack so leftovers are recognisable. drop() ends the pool and
 * removes the database (terminating stray connections first).
 */
export async function createTestDatabase(prefix = 'db', { max = 4 }: { max?: number } = {}): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max, idleTimeoutMillis: 1_000 });
  // An idle connection that the server closes (drop(), or a chaos test) must not crash the test process;
  // the next query on the pool opens a new one.
  pool.on('error', () => undefined);
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminDatabaseUrl() });
      await client.connect();
      try {
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
        await client.query(`drop database if exists ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
    },
  };
}
