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
 * One pg pool per service. Idle connections are closed after 10 s, so a quiet
 * stack holds few of the server's connections.
 */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    application_name: options.applicationName,
  });
  // Without a listener, an idle connection the server drops would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
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
