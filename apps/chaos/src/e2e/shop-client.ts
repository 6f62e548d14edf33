import { randomUUID } from 'node:crypto';

/**
 * A client of the public API (docs/contract.md), as a person or a load
 * generator uses it: only the gateway, only /api/v1.
 */
export interface OrderView {
  readonly orderId: string;
  readonly status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  readonly reason?: string;
  readonly totalCents: number;
  readonly items: ReadonlyArray<{ sku: string; quantity: number; priceCents: number }>;
}

export class ShopClient {
  private token: string | undefined;

  constructor(readonly baseUrl: string) {}

  static fromEnv(): ShopClient {
    const url = process.env['GATEWAY_URL'];
    if (!url) throw new Error('GATEWAY_URL is not set: run the e2e tests through `npm test`');
    return new ShopClient(`${url}/api/v1`);
  }

  /** Registers a fresh user and logs in. */
  async signUp(): Promise<this> {
    const email = `e2e-${randomUUID()}@example.test`;
    const password = `pw-${randomUUID()}`;
    const registered = await this.request('POST', '/auth/register', { email, password, name: 'E2E Tester' });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${await registered.text()}`);
    const login = await this.request('POST', '/auth/login', { email, password });
    if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
    this.token = ((await login.json()) as { accessToken: string }).accessToken;
    return this;
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  placeOrder(body: unknown, key: string = randomUUID()): Promise<Response> {
    return this.request('POST', '/orders', body, { 'idempotency-key': key });
  }

  async order(orderId: string): Promise<OrderView> {
    const response = await this.request('GET', `/orders/${orderId}`);
    if (response.status !== 200) throw new Error(`GET order: ${response.status}`);
    return (await response.json()) as OrderView;
  }

  async available(sku: string): Promise<number> {
    const response = await this.request('GET', `/products/${sku}`);
    return ((await response.json()) as { available: number }).available;
  }
}
