import { waitFor } from '@shop/testing';
import { audit, type AuditReport } from '../audit/invariants';
import type { OrderView, ShopClient } from './shop-client';

/**
 * What every end-to-end spec shares: the running stack's addresses (set by
 * `npm test`), waiting for an order to end, and the closing audit of the five
 * invariants over the orders a spec placed.
 */
export function stackEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the e2e tests through \`npm test\``);
  return value;
}

/** A connection string for one service database of the test stack (read by the auditor and the trace check). */
export function serviceDatabase(service: string): string {
  const url = new URL(stackEnv('TEST_ADMIN_DATABASE_URL'));
  url.pathname = `/${stackEnv('STACK_ID')}_${service}`;
  return url.toString();
}

export function terminal(client: ShopClient, orderId: string, timeoutMs = 45_000): Promise<OrderView> {
  return waitFor(
    `order ${orderId} to end`,
    async () => {
      const order = await client.order(orderId);
      return order.status === 'PENDING' ? undefined : order;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Places an order that must be accepted (202) and returns its id. */
export async function placeAccepted(
  client: ShopClient,
  items: ReadonlyArray<{ sku: string; quantity: number }>,
  paymentToken = 'tok_visa',
): Promise<string> {
  const response = await client.placeOrder({ items, paymentToken });
  if (response.status !== 202) throw new Error(`POST /orders: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { orderId: string }).orderId;
}

/**
 * The five invariants over `orderIds`, once their stock and money effects
 * have settled (docs/contract.md: within 5 s of a terminal status) and every
 * outbox is drained. Returns the last report; the caller asserts on it.
 */
export async function settledAudit(orderIds: readonly string[]): Promise<AuditReport> {
  const target = {
    adminUrl: stackEnv('TEST_ADMIN_DATABASE_URL'),
    stackId: stackEnv('STACK_ID'),
    pendingGraceMs: 60_000,
  };
  let last: AuditReport | undefined;
  try {
    return await waitFor(
      'the invariants to hold',
      async () => {
        last = await audit(target, { orderIds });
        return last.violations.length === 0 && last.counts.pendingOutbox === 0 ? last : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 500 },
    );
  } catch {
    return last ?? audit(target, { orderIds });
  }
}

/** A call to a service's operator route (`/admin/*`), which the gateway never routes. */
export function adminCall(
  serviceUrlEnv: string,
  tokenEnv: 'CHAOS_TOKEN' | 'ADMIN_TOKEN',
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${stackEnv(serviceUrlEnv)}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stackEnv(tokenEnv)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The card processor's ledger for one order (what an auditor reads). */
export async function chargesFor(
  orderId: string,
): Promise<Array<{ status: string; amountCents: number; refundedCents: number }>> {
  const response = await fetch(
    `${stackEnv('PAYMENT_PROVIDER_URL')}/v1/charges?reference=${encodeURIComponent(orderId)}`,
  );
  if (response.status !== 200) throw new Error(`GET /v1/charges: ${response.status}`);
  return ((await response.json()) as { items: Array<{ status: string; amountCents: number; refundedCents: number }> })
    .items;
}
