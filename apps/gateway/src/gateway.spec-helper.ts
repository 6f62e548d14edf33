import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { loadServiceConfig, type ServiceConfig } from './config';
import { startGateway } from './gateway';

/** What a stand-in service was asked. */
export interface SeenRequest {
  readonly method: string;
  /** Path and query, as the gateway sent them. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined without a body. */
  readonly body: unknown;
}

/** A stand-in's answer; `drop` closes the connection without one (a service that is down). */
export type StandInAnswer =
  { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> } | 'drop';

export type StandInHandler = (request: SeenRequest) => StandInAnswer | Promise<StandInAnswer>;

/**
 * A small HTTP server on 127.0.0.1 standing in for one service: it records
 * every request and answers with whatever `handler` says. The gateway's own
 * edge behaviour is under test here; the real services meet it in the e2e
 * suite.
 */
export interface StandIn {
  readonly url: string;
  readonly seen: SeenRequest[];
  handler: StandInHandler;
  /** Requests whose path starts with `prefix`. */
  seenAt(prefix: string): SeenRequest[];
  close(): Promise<void>;
}

export const problemAnswer = (status: number, title: string, detail: string) => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: { type: `https://shop.example/problems/${title.replaceAll(' ', '-')}`, title, status, detail },
});

export async function startStandIn(handler: StandInHandler): Promise<StandIn> {
  const seen: SeenRequest[] = [];
  const standIn: StandIn = {
    url: '',
    seen,
    handler,
    seenAt: (prefix) => seen.filter((request) => request.url.startsWith(prefix)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const record: SeenRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      seen.push(record);
      Promise.resolve(standIn.handler(record))
        .then((answer) => {
          if (answer === 'drop') {
            request.socket.destroy();
            return;
          }
          response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
          response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
        })
        .catch(() => request.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(standIn, { url: `http://127.0.0.1:${port}` });
}

/** An Ed25519 key as user-service has one: signs tokens, published in a JWKS under `kid`. */
export interface SigningKey {
  readonly kid: string;
  readonly publicJwk: JWK;
  sign(claims?: TokenClaims): Promise<string>;
}

export interface TokenClaims {
  readonly sub?: string;
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds since the epoch; default: in 15 minutes. */
  readonly exp?: number;
}

export const ISSUER = 'shop-user-service';
export const AUDIENCE = 'shop';

export async function createSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return {
    kid,
    publicJwk,
    sign: (claims = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
        .setSubject(claims.sub ?? 'user-1')
        .setIssuer(claims.iss ?? ISSUER)
        .setAudience(claims.aud ?? AUDIENCE)
        .setIssuedAt(now - 1)
        .setExpirationTime(claims.exp ?? now + 900)
        .sign(privateKey);
    },
  };
}

/** The JWKS route of the user-service stand-in, serving `keys()` (so a test can rotate them). */
export function jwksRoute(keys: () => readonly JWK[]): (request: SeenRequest) => StandInAnswer | undefined {
  return (request) =>
    request.method === 'GET' && request.url === '/.well-known/jwks.json'
      ? { status: 200, body: { keys: keys() } }
      : undefined;
}

export interface TestGateway {
  readonly url: string;
  readonly app: NestFastifyApplication;
  readonly config: ServiceConfig;
  /** Every log line written so far. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * The gateway as main.ts starts it (startGateway, bootstrapService, the real
 * HTTP server), on a port the OS picks, talking to the given stand-ins, with
 * its log lines captured. `env` overrides any variable (limits, timeouts).
 */
export async function startTestGateway(
  services: { users: StandIn; orders: StandIn; inventory: StandIn },
  env: NodeJS.ProcessEnv = {},
): Promise<TestGateway> {
  const lines: string[] = [];
  const config: ServiceConfig = {
    ...loadServiceConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      USER_SERVICE_URL: services.users.url,
      ORDER_SERVICE_URL: services.orders.url,
      INVENTORY_SERVICE_URL: services.inventory.url,
      RETRY_BASE_DELAY_MS: '5',
      RETRY_MAX_DELAY_MS: '20',
      ...env,
    }),
    GATEWAY_PORT: 0,
  };
  const app = await startGateway(config, { logDestination: { write: (line: string) => lines.push(line) } });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, app, config, logs: () => lines.join(''), stop: () => app.close() };
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

/** One HTTP call; a string body is sent as is (to send malformed JSON), anything else as JSON. */
export async function call(
  url: string,
  method: 'GET' | 'POST',
  options: { body?: unknown; headers?: Record<string, string>; token?: string } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = {
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  const response = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  return { status: response.status, headers: response.headers, body, text };
}

export type Route = (request: SeenRequest) => StandInAnswer | undefined;

/** The first route that answers, else a 404 problem (as a Nest service answers an unknown route). */
export function routes(...handlers: Route[]): StandInHandler {
  return (request) => {
    for (const handler of handlers) {
      const answer = handler(request);
      if (answer) return answer;
    }
    return problemAnswer(404, 'not found', `no route ${request.method} ${request.url}`);
  };
}

export const ORDER_ID = '0b7d2c52-54b4-4d0e-9a53-3c0f8d1f2a10';
export const PRODUCTS = [
  { sku: 'MUG-001', name: 'Enamel camping mug', priceCents: 1200, currency: 'EUR', available: 120 },
  { sku: 'TEE-001', name: 'Organic cotton T-shirt', priceCents: 2500, currency: 'EUR', available: 200 },
];

const match = (request: SeenRequest, method: string, pattern: RegExp) =>
  request.method === method ? pattern.exec(request.url) : null;

/** What user-service answers, roughly: its JWKS, profiles, login and register. */
export function userServiceRoutes(keys: () => readonly JWK[]): Route[] {
  return [
    jwksRoute(keys),
    (request) => {
      const id = match(request, 'GET', /^\/users\/([^/?]+)$/)?.[1];
      return id ? { status: 200, body: { userId: id, email: `${id}@example.com`, name: 'Test User' } } : undefined;
    },
    (request) =>
      match(request, 'POST', /^\/auth\/login$/)
        ? { status: 200, body: { accessToken: 'issued-token', tokenType: 'Bearer', expiresIn: 900 } }
        : undefined,
    (request) =>
      match(request, 'POST', /^\/auth\/register$/) ? { status: 201, body: { userId: ORDER_ID } } : undefined,
  ];
}

export function order(orderId: string) {
  return {
    orderId,
    status: 'PENDING',
    items: [{ sku: 'MUG-001', quantity: 1, priceCents: 1200 }],
    totalCents: 1200,
    currency: 'EUR',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

/** What order-service answers, roughly: place, read, list, cancel. */
export function orderServiceRoutes(): Route[] {
  return [
    (request) =>
      match(request, 'POST', /^\/orders$/)
        ? {
            status: 202,
            headers: { location: `/api/v1/orders/${ORDER_ID}` },
            body: { orderId: ORDER_ID, status: 'PENDING' },
          }
        : undefined,
    (request) => {
      const id = match(request, 'GET', /^\/orders\/([^/?]+)$/)?.[1];
      return id ? { status: 200, body: order(id) } : undefined;
    },
    (request) => (match(request, 'GET', /^\/orders(\?|$)/) ? { status: 200, body: { items: [] } } : undefined),
    (request) => {
      const id = match(request, 'POST', /^\/orders\/([^/?]+)\/cancel$/)?.[1];
      return id ? { status: 202, body: { orderId: id, status: 'PENDING' } } : undefined;
    },
  ];
}

/** What inventory-service answers: the catalog. */
export function inventoryRoutes(): Route[] {
  return [
    (request) => (match(request, 'GET', /^\/products$/) ? { status: 200, body: { items: PRODUCTS } } : undefined),
    (request) => {
      const sku = match(request, 'GET', /^\/products\/([^/?]+)$/)?.[1];
      if (sku === undefined) return undefined;
      const product = PRODUCTS.find((candidate) => candidate.sku === decodeURIComponent(sku));
      return product ? { status: 200, body: product } : problemAnswer(404, 'product not found', 'no such SKU');
    },
  ];
}

export interface World {
  readonly key: SigningKey;
  /** The keys the user-service stand-in publishes (a test may rotate them). */
  jwks: JWK[];
  readonly users: StandIn;
  readonly orders: StandIn;
  readonly inventory: StandIn;
  close(): Promise<void>;
}

/** The three stand-ins with their usual answers, and a signing key published in the JWKS. */
export async function startWorld(): Promise<World> {
  const key = await createSigningKey('key-1');
  const world = {
    key,
    jwks: [key.publicJwk],
  } as { key: SigningKey; jwks: JWK[] };
  const users = await startStandIn(routes(...userServiceRoutes(() => world.jwks)));
  const orders = await startStandIn(routes(...orderServiceRoutes()));
  const inventory = await startStandIn(routes(...inventoryRoutes()));
  return Object.assign(world, {
    users,
    orders,
    inventory,
    close: async () => {
      await Promise.all([users.close(), orders.close(), inventory.close()]);
    },
  });
}
