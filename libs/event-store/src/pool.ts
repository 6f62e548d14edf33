import pg from 'pg';
import type { ReadinessCheck } from '@shop/health';

export interface PoolOptions {
  readonly connectionString: string;
  /** Upper bound of connections this process opens (the server allows 100 for everything). */
  readonly max: number;
  readonly applicationName: string;
  /** Told when the server closes an idle connection (a restart, a terminated backend); the pool replaces it. */
  readonly onIdleError?: (error: Error) => void;
}

/**
 * Session settings of every connection: each named statement is planned once,
 * when it is prepared, and then runs that (generic) plan. With the server's
 * default (`auto`) a statement whose generic plan is estimated dearer than
 * the plans for its actual values is planned again on every call: the
 * multi-CTE appends (ADR 0009) were, and planning was a quarter of
 * inventory's server CPU. The statements are written for generic plans
 * (lookups by key, status literals that match the partial indexes), and the
 * event store's plan test asserts the appends' generic plans use the indexes.
 */
export const SESSION_OPTIONS = '-c plan_cache_mode=force_generic_plan';

/**
 * One pg pool per service. Idle connections are closed after 10 s, so a quiet
 * stack holds few of the server's connections. An `options` parameter of the
 * URL is kept, before SESSION_OPTIONS.
 */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    application_name: options.applicationName,
    options: sessionOptions(options.connectionString),
  });
  // Without a listener, an idle connection the server drops would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

/** The `options` of a connection to `connectionString`: the URL's own `options` parameter, then SESSION_OPTIONS. */
export function sessionOptions(connectionString: string): string {
  const fromUrl = new URL(connectionString).searchParams.get('options');
  return fromUrl ? `${fromUrl} ${SESSION_OPTIONS}` : SESSION_OPTIONS;
}

export function postgresReadiness(pool: pg.Pool): ReadinessCheck {
  return {
    name: 'postgres',
    async check() {
      await pool.query('select 1');
      return { totalConnections: pool.totalCount, idleConnections: pool.idleCount };
    },
  };
}
