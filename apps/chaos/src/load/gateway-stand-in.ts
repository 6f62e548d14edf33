import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small in-process stand-in for the gateway, for the load generator's
 * tests: the /api/v1 routes the workload uses, with the contract's bodies
 * (problem+json errors, 202 + Location, idempotent replays, 409 on cancelling
 * a REJECTED order, per-user orders), plus knobs to make a route slow or
 * failing. It records every answer so a test can compare the load report
 * with what the "gateway" actually did.
 */
export interface StandInProduct {
  readonly sku: string;
  readonly priceCents: number;
  available: number;
}

export interface StandInOptions {
  readonly products: ReadonlyArray<{ sku: string; priceCents: number; available: number }>;
  /** Delay before GET /products answers. */
  readonly listDelayMs?: number;
  /** Delay before GET /products/:sku answers, per SKU. */
  readonly productDelayMs?: Readonly<Record<string, number>>;
  /** SKUs whose GET /products/:sku answers 503 (inventory down, nothing cached). */
  readonly failingSkus?: readonly string[];
  /** GET /products answers 503 + Retry-After: 0 (the gateway cannot reach inventory). */
  readonly catalogDown?: boolean;
  /** /health/ready: 200, or 503 problem+json; both carry these breaker states. */
  readonly ready?: { readonly status: 200 | 503; readonly breakers: Readonly<Record<string, string>> };
  /**
   * Called as each API request arrives (the ones inFlight counts: auth and
   * health excluded, the generator's first GET /products included), before
   * it is answered, with how many have arrived so far: a test acts at a
   * point of the run (the stand-in shares the generator's process, and with
   * it the event loop).
   */
  readonly onRequest?: (arrived: number) => void;
}

export interface StandInAnswer {
  /** "GET /products", "GET /products/:sku", "POST /orders", "POST /orders/:id/cancel", "POST /auth/…". */
  readonly route: string;
  readonly status: number;
  readonly orderId?: string;
}

interface Order {
  readonly orderId: string;
  readonly userId: string;
  readonly key: string;
  readonly body: string;
  readonly items: ReadonlyArray<{ sku: string; quantity: number }>;
  readonly paymentToken: string;
  status: 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
}

const TOKENS = new Set(['tok_visa', 'tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds']);

export class GatewayStandIn {
  readonly answers: StandInAnswer[] = [];
  readonly orders = new Map<string, Order>();
  /** Requests being answered now, and the most at any moment (auth and health excluded). */
  inFlight = 0;
  maxInFlight = 0;
  private arrived = 0;
  private readonly products: StandInProduct[];
  private readonly users = new Map<string, { userId: string; password: string }>();
  private readonly tokens = new Map<string, string>();
  private readonly server: Server;

  private constructor(private readonly options: StandInOptions) {
    this.products = options.products.map((product) => ({ ...product }));
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  static async start(options: StandInOptions): Promise<GatewayStandIn> {
    const standIn = new GatewayStandIn(options);
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  /** The answers of the given routes, counted by status, as the load report counts them. */
  statusCounts(filter: (answer: StandInAnswer) => boolean = () => true): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const answer of this.answers.filter(filter)) counts[answer.status] = (counts[answer.status] ?? 0) + 1;
    return counts;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const body = await readBody(request);
    // The workload's requests: not the set-up (register, log in, the check of a saved customer).
    const counted =
      url.pathname.startsWith('/api/v1/') && !url.pathname.startsWith('/api/v1/auth/') && url.pathname !== '/api/v1/me';
    if (counted) {
      this.arrived += 1;
      this.options.onRequest?.(this.arrived);
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    }
    const answer = await this.route(request.method ?? 'GET', url.pathname, request.headers, body);
    if (counted) this.inFlight -= 1;
    if (answer.route !== 'GET /health/ready') {
      this.answers.push({
        route: answer.route,
        status: answer.status,
        ...(answer.orderId ? { orderId: answer.orderId } : {}),
      });
    }
    const problem = answer.status >= 400 && answer.route !== 'GET /health/ready';
    response.writeHead(answer.status, {
      'content-type': problem ? 'application/problem+json' : 'application/json',
      ...answer.headers,
    });
    response.end(JSON.stringify(answer.body));
  }

  private async route(method: string, path: string, headers: IncomingMessage['headers'], raw: string): Promise<Reply> {
    if (method === 'GET' && path === '/health/ready') return this.ready();
    const parts = path.split('/').filter(Boolean); // ['api', 'v1', ...]
    const route = `${method} /${parts.slice(2).join('/')}`;
    if (parts[0] !== 'api' || parts[1] !== 'v1') return problem(`${method} ${path}`, 404, 'not found');

    if (route === 'POST /auth/register') return this.register(raw);
    if (route === 'POST /auth/login') return this.login(raw);
    if (route === 'GET /products') {
      if (this.options.catalogDown) return problem(route, 503, 'inventory unavailable', { 'retry-after': '0' });
      await delay(this.options.listDelayMs ?? 0);
      return { route, status: 200, body: { items: this.products.map(view) } };
    }
    if (method === 'GET' && parts[2] === 'products' && parts.length === 4) {
      const label = 'GET /products/:sku';
      const product = this.products.find((candidate) => candidate.sku === parts[3]);
      if (!product) return problem(label, 404, 'product not found');
      await delay(this.options.productDelayMs?.[product.sku] ?? 0);
      if (this.options.failingSkus?.includes(product.sku)) {
        return problem(label, 503, 'inventory unavailable', { 'retry-after': '1' });
      }
      return { route: label, status: 200, body: view(product) };
    }

    const userId = this.tokens.get((headers['authorization'] ?? '').replace(/^Bearer /, ''));
    if (route === 'GET /me') return userId ? { route, status: 200, body: { userId } } : problem(route, 401, 'no token');
    if (route === 'POST /orders')
      return userId ? this.placeOrder(userId, headers, raw) : problem(route, 401, 'no token');
    if (method === 'POST' && parts[2] === 'orders' && parts[4] === 'cancel' && parts.length === 5) {
      const label = 'POST /orders/:id/cancel';
      return userId ? this.cancel(userId, parts[3] ?? '') : problem(label, 401, 'no token');
    }
    return problem(route, 404, 'not found');
  }

  private ready(): Reply {
    const ready = this.options.ready ?? { status: 200, breakers: {} };
    const snapshots = Object.fromEntries(
      Object.entries(ready.breakers).map(([policy, state]) => [policy, { state, stats: { calls: 0 } }]),
    );
    const details = {
      database: { status: ready.status === 200 ? 'up' : 'down' },
      breakers: { status: 'up', ...snapshots },
    };
    const body =
      ready.status === 200
        ? { status: 'ok', info: details, error: {}, details }
        : {
            type: 'about:blank',
            title: 'not ready',
            status: 503,
            detail: 'database down',
            instance: '/health/ready',
            details,
          };
    return { route: 'GET /health/ready', status: ready.status, body };
  }

  private register(raw: string): Reply {
    const route = 'POST /auth/register';
    const body = parse(raw) as { email?: unknown; password?: unknown; name?: unknown };
    if (typeof body.email !== 'string' || typeof body.password !== 'string' || body.password.length < 8) {
      return problem(route, 400, 'invalid registration');
    }
    if (typeof body.name !== 'string') return problem(route, 400, 'invalid registration');
    if (this.users.has(body.email)) return problem(route, 409, 'email already registered');
    const userId = randomUUID();
    this.users.set(body.email, { userId, password: body.password });
    return { route, status: 201, body: { userId } };
  }

  private login(raw: string): Reply {
    const route = 'POST /auth/login';
    const body = parse(raw) as { email?: unknown; password?: unknown };
    const user = typeof body.email === 'string' ? this.users.get(body.email) : undefined;
    if (!user || user.password !== body.password) return problem(route, 401, 'login failed');
    const accessToken = `token-${randomUUID()}`;
    this.tokens.set(accessToken, user.userId);
    return { route, status: 200, body: { accessToken, tokenType: 'Bearer', expiresIn: 900 } };
  }

  private placeOrder(userId: string, headers: IncomingMessage['headers'], raw: string): Reply {
    const route = 'POST /orders';
    const key = headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return problem(route, 400, 'Idempotency-Key is required');
    if (headers['content-type'] !== 'application/json') return problem(route, 415, 'not json');
    const replay = [...this.orders.values()].find((order) => order.userId === userId && order.key === key);
    if (replay) {
      if (replay.body !== raw) return problem(route, 409, 'Idempotency-Key reused with another body');
      return { route, status: 200, body: { orderId: replay.orderId, status: replay.status }, orderId: replay.orderId };
    }
    const body = parse(raw) as { items?: Array<{ sku?: unknown; quantity?: unknown }>; paymentToken?: unknown };
    const items = body.items ?? [];
    const skus = new Set(items.map((item) => item.sku));
    const valid =
      items.length >= 1 &&
      items.length <= 50 &&
      skus.size === items.length &&
      items.every(
        (item) =>
          this.products.some((product) => product.sku === item.sku) &&
          Number.isInteger(item.quantity) &&
          (item.quantity as number) >= 1 &&
          (item.quantity as number) <= 100,
      ) &&
      typeof body.paymentToken === 'string' &&
      TOKENS.has(body.paymentToken);
    if (!valid) return problem(route, 400, 'invalid order');
    const lines = items as Array<{ sku: string; quantity: number }>;
    const paymentToken = body.paymentToken as string;
    // The saga, at once: stock first, then the payment.
    const inStock = lines.every(
      (line) => (this.products.find((product) => product.sku === line.sku)?.available ?? 0) >= line.quantity,
    );
    const status = inStock && paymentToken === 'tok_visa' ? 'CONFIRMED' : 'REJECTED';
    if (status === 'CONFIRMED') this.move(lines, -1);
    const order: Order = { orderId: randomUUID(), userId, key, body: raw, items: lines, paymentToken, status };
    this.orders.set(order.orderId, order);
    return {
      route,
      status: 202,
      body: { orderId: order.orderId, status: 'PENDING' },
      headers: { location: `/api/v1/orders/${order.orderId}` },
      orderId: order.orderId,
    };
  }

  private cancel(userId: string, orderId: string): Reply {
    const route = 'POST /orders/:id/cancel';
    const order = this.orders.get(orderId);
    if (!order || order.userId !== userId) return problem(route, 404, 'order not found');
    if (order.status !== 'CONFIRMED') return problem(route, 409, `the order is ${order.status}`);
    order.status = 'CANCELLED';
    this.move(order.items, +1);
    return { route, status: 202, body: { orderId, status: order.status } };
  }

  private move(lines: ReadonlyArray<{ sku: string; quantity: number }>, sign: 1 | -1): void {
    for (const line of lines) {
      const product = this.products.find((candidate) => candidate.sku === line.sku);
      if (product) product.available += sign * line.quantity;
    }
  }
}

interface Reply {
  readonly route: string;
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  readonly orderId?: string;
}

function problem(route: string, status: number, title: string, headers: Record<string, string> = {}): Reply {
  return { route, status, body: { type: 'about:blank', title, status, detail: title, instance: route }, headers };
}

function view(product: StandInProduct): object {
  return {
    sku: product.sku,
    name: `Product ${product.sku}`,
    priceCents: product.priceCents,
    currency: 'EUR',
    available: product.available,
  };
}

function parse(raw: string): object {
  try {
    const value = JSON.parse(raw) as unknown;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

/** The stand-in's slowness: the behaviour under test, not a wait for something. */
function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
