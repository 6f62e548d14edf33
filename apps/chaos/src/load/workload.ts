import { randomUUID } from 'node:crypto';
import { httpExchange } from '@shop/resilience';
import type { Outcome } from './recorder';
import { pickWeighted } from './schedule';
import type { WorkloadMix } from './types';

/**
 * What the load's customers do, through the gateway's public API only
 * (docs/contract.md): browse the catalog, place orders (mostly `tok_visa`,
 * some declines, some for the SKUs that are nearly sold out) and cancel one of
 * their own orders. Each action is chosen when its arrival is scheduled and
 * answers with an Outcome; it never throws.
 */

export interface Product {
  readonly sku: string;
  readonly available: number;
}

export interface Customer {
  readonly email: string;
  readonly password: string;
  token: string;
  /** Monotonic ms after which the token is renewed before use. */
  renewAfterMs: number;
  /** The same moment as Unix ms, for a customers file read by a later run. */
  renewAt?: number;
  renewing?: Promise<void> | undefined;
  /** Accepted orders not cancelled yet: what a cancel picks from. */
  readonly orders: string[];
}

export interface Answer {
  /** HTTP status, or "timeout" / "network". */
  readonly status: string;
  readonly body: unknown;
  readonly retryAfterS?: number;
}

/** SKUs with at most this many units when the load starts are the low-stock ones. */
export const LOW_STOCK_UNITS = 10;

/** Per 100 orders: the payment tokens and how many go to low-stock SKUs. */
const TOKENS = { tok_visa: 80, tok_chargeDeclined: 10, tok_chargeDeclinedInsufficientFunds: 10 };
const LOW_STOCK_ORDERS = 0.15;

/** A thin HTTP client of /api/v1 with a per-request deadline; transport failures become a status, never a throw. */
export class Api {
  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async send(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    try {
      // node:http on kept-alive connections, not fetch: the generator shares the machine with the stack it
      // loads, and fetch spent about twice the CPU per request (see httpExchange).
      const response = await httpExchange(`${this.apiUrl}${path}`, {
        method,
        headers: {
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The whole body is read: the latency is the customer's, not the first byte's.
      const retryAfter = Number(response.headers['retry-after'] ?? Number.NaN);
      return {
        status: String(response.status),
        body: parseJson(response.text),
        ...(Number.isFinite(retryAfter) ? { retryAfterS: retryAfter } : {}),
      };
    } catch (error) {
      const name = (error as { name?: string }).name;
      return { status: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network', body: undefined };
    }
  }
}

/** The body as JSON; the text itself when it is not JSON (a plain-text error page, say). */
export function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return text;
  }
}

export type Operation = keyof WorkloadMix;

/** One action, chosen; `run` sends it. */
export interface Action {
  readonly operation: Operation;
  run(): Promise<Outcome>;
}

/** Not an error whatever the operation: the gateway's rate limit, as the contract describes it. */
const EXPECTED_EVERYWHERE = new Set(['429']);

function outcome(status: string, expected: readonly string[], extra: Partial<Outcome> = {}): Outcome {
  return { status, error: !expected.includes(status) && !EXPECTED_EVERYWHERE.has(status), ...extra };
}

export class Workload {
  private readonly lowStock: readonly Product[];
  private readonly regular: readonly Product[];

  constructor(
    private readonly api: Api,
    private readonly catalog: readonly Product[],
    private readonly customers: readonly Customer[],
    private readonly mix: WorkloadMix,
    private readonly renewToken: (customer: Customer) => Promise<void>,
    private readonly clock: () => number,
    private readonly random: () => number = Math.random,
  ) {
    const low = catalog.filter((product) => product.available <= LOW_STOCK_UNITS);
    const sorted = [...catalog].sort((a, b) => a.available - b.available);
    // With no nearly-sold-out SKU, the scarcest one stands in for them.
    this.lowStock = low.length > 0 ? low : sorted.slice(0, 1);
    const regular = catalog.filter((product) => product.available > LOW_STOCK_UNITS);
    this.regular = regular.length > 0 ? regular : catalog;
  }

  /** Chooses the next action (by the mix) for `customer`, or for a customer picked at random. */
  next(customer: Customer = this.pick(this.customers)): Action {
    const operation = pickWeighted(this.mix, this.random);
    switch (operation) {
      case 'browse':
        return { operation, run: () => this.browse() };
      case 'order':
        return { operation, run: () => this.order(customer) };
      case 'cancel': {
        // The customer's own order; if this customer has none yet, another customer's action, else an order.
        const owner = customer.orders.length > 0 ? customer : this.customers.find((other) => other.orders.length > 0);
        if (!owner) return { operation: 'order', run: () => this.order(customer) };
        const index = Math.floor(this.random() * owner.orders.length);
        // Taken off the list now, so two concurrent cancels never pick the same order.
        const [orderId] = owner.orders.splice(index, 1);
        if (orderId === undefined) return { operation: 'order', run: () => this.order(customer) };
        return { operation, run: () => this.cancel(owner, orderId) };
      }
      default: {
        const never: never = operation;
        throw new Error(`unknown operation ${String(never)}`);
      }
    }
  }

  private async browse(): Promise<Outcome> {
    const answer =
      this.random() < 0.5
        ? await this.api.send('GET', '/products')
        : await this.api.send('GET', `/products/${encodeURIComponent(this.pick(this.catalog).sku)}`);
    return outcome(answer.status, ['200']);
  }

  private async order(customer: Customer): Promise<Outcome> {
    const paymentToken = pickWeighted(TOKENS, this.random);
    const items =
      this.random() < LOW_STOCK_ORDERS
        ? [{ sku: this.pick(this.lowStock).sku, quantity: 1 }]
        : this.sample(this.regular, 1 + Math.floor(this.random() * 3)).map((product) => ({
            sku: product.sku,
            quantity: 1 + Math.floor(this.random() * 2),
          }));
    const answer = await this.authorized(customer, (token) =>
      this.api.send('POST', '/orders', {
        token,
        body: { items, paymentToken },
        headers: { 'idempotency-key': randomUUID() },
      }),
    );
    const orderId = (answer.body as { orderId?: unknown } | undefined)?.orderId;
    const accepted = (answer.status === '202' || answer.status === '200') && typeof orderId === 'string';
    if (accepted) customer.orders.push(orderId);
    return outcome(answer.status, accepted ? [answer.status] : [], {
      orderAccepted: accepted,
      ...(accepted ? { orderId } : {}),
    });
  }

  private async cancel(customer: Customer, orderId: string): Promise<Outcome> {
    const answer = await this.authorized(customer, (token) =>
      this.api.send('POST', `/orders/${encodeURIComponent(orderId)}/cancel`, { token }),
    );
    // 202: cancelled (or on its way); 409: it had already ended REJECTED or CANCELLED. Anything else: try again later.
    if (answer.status !== '202' && answer.status !== '409') customer.orders.push(orderId);
    return outcome(answer.status, ['202', '409'], { cancelAccepted: answer.status === '202' });
  }

  /** Renews the customer's token when it is about to expire (one renewal at a time), then sends. */
  private async authorized(customer: Customer, send: (token: string) => Promise<Answer>): Promise<Answer> {
    if (this.clock() >= customer.renewAfterMs) {
      customer.renewing ??= this.renewToken(customer).finally(() => {
        customer.renewing = undefined;
      });
      try {
        await customer.renewing;
      } catch {
        // The old token is tried anyway: the request's answer says what went wrong.
      }
    }
    return send(customer.token);
  }

  private pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.random() * items.length)];
    if (item === undefined) throw new Error('nothing to pick from');
    return item;
  }

  /** `count` different items (fewer if there are not that many). */
  private sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const chosen: T[] = [];
    while (chosen.length < count && pool.length > 0) {
      chosen.push(...pool.splice(Math.floor(this.random() * pool.length), 1));
    }
    return chosen;
  }
}
