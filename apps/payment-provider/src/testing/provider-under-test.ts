import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { loadServiceConfig } from '../config';
import { startPaymentProvider } from '../payment-provider';

/**
 * Test helper (specs only, not part of the build): payment-provider started
 * in-process through startPaymentProvider, exactly as main.ts starts it, on a
 * free port, with a fresh database of its own; spoken to over real HTTP.
 */
export const CHAOS_TOKEN = 'payment-provider-int-chaos-token';

export type Json = Record<string, unknown>;

export interface Reply<Body = Json> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

export interface ProviderUnderTest {
  readonly url: string;
  /** A pool on the provider's database, to read the ledger directly. */
  readonly db: TestDatabase;
  request<Body = Json>(
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply<Body>>;
  /** POST with a JSON body and an Idempotency-Key (a fresh one unless given). */
  post<Body = Json>(path: string, body: unknown, idempotencyKey?: string): Promise<Reply<Body>>;
  setFaults(faults: Json): Promise<void>;
  clearFaults(): Promise<void>;
  /** Rows in a ledger table. */
  count(table: 'charges' | 'refunds' | 'idempotency_keys'): Promise<number>;
  stop(): Promise<void>;
}

export interface ChargeBody {
  readonly chargeId: string;
  readonly status: 'captured' | 'declined';
  readonly declineCode?: string;
}

export async function startProviderUnderTest({
  chaos = true,
  random,
}: { chaos?: boolean; random?: () => number } = {}): Promise<ProviderUnderTest> {
  const db = await createTestDatabase('provider', { max: 2 });
  let app: NestFastifyApplication;
  try {
    const config = loadServiceConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      DB_POOL_MAX: '10',
      LOG_LEVEL: 'error',
      ...(chaos ? { CHAOS_ENABLED: 'true', CHAOS_TOKEN } : {}),
    });
    app = await startPaymentProvider({ ...config, PAYMENT_PROVIDER_PORT: 0 }, random ? { random } : {});
  } catch (error) {
    await db.drop();
    throw error;
  }
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

  async function request<Body>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Reply<Body>> {
    const hasBody = init.body !== undefined;
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(hasBody ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Body };
  }

  const admin = { authorization: `Bearer ${CHAOS_TOKEN}` };
  return {
    url,
    db,
    request,
    post: (path, body, idempotencyKey = randomUUID()) =>
      request('POST', path, { body, headers: { 'idempotency-key': idempotencyKey } }),
    async setFaults(faults) {
      const reply = await request('PUT', '/admin/faults', { body: faults, headers: admin });
      if (reply.status !== 200) throw new Error(`PUT /admin/faults answered ${reply.status}`);
    },
    async clearFaults() {
      const reply = await request('DELETE', '/admin/faults', { headers: admin });
      if (reply.status !== 204) throw new Error(`DELETE /admin/faults answered ${reply.status}`);
    },
    async count(table) {
      const { rows } = await db.pool.query<{ count: string }>(`select count(*) from ${table}`);
      return Number(rows[0]?.count);
    },
    async stop() {
      try {
        await app.close();
      } finally {
        await db.drop();
      }
    },
  };
}
