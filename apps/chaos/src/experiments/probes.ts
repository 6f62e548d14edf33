import { waitFor } from '@shop/testing';
import { ShopClient } from '../e2e/shop-client';
import { type DeadLetterExpectations, groupCaughtUp, kafkaClient, topicEnd } from '../faults/message-faults';
import { isReady } from '../faults/process-faults';
import { SERVICES, type Service, type StackTarget } from '../faults/target';
import type { ProbeActivity } from './schema';

/**
 * The probes of `chaosshop.probes`: what a steady-state hypothesis or a
 * method checks, seen from outside like a customer or an operator (the
 * gateway, /health/ready, Kafka's offsets). Each returns a plain value the
 * runner compares with the probe's tolerance.
 */
export interface ProbeContext {
  readonly target: StackTarget;
  readonly deadLetters: DeadLetterExpectations;
  /** Orders the probes placed: the audit checks them with the load's. */
  readonly orderIds: string[];
}

export type RunProbe = (probe: ProbeActivity, context: ProbeContext) => Promise<unknown>;

async function products(target: StackTarget): Promise<Array<{ sku: string; available: number }>> {
  const response = await fetch(`${target.url('gateway')}/api/v1/products`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`GET /products: ${response.status}`);
  return ((await response.json()) as { items: Array<{ sku: string; available: number }> }).items;
}

/** The SKU with the most stock: a probe's order must not fail for want of it. */
async function stockedSku(target: StackTarget): Promise<string> {
  const [best] = (await products(target)).sort((a, b) => b.available - a.available);
  if (!best || best.available < 1)
    throw new Error('no SKU in stock: restock with POST /admin/stock on inventory-service');
  return best.sku;
}

async function customer(target: StackTarget): Promise<ShopClient> {
  return new ShopClient(`${target.url('gateway')}/api/v1`).signUp();
}

async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

export const runProbe: RunProbe = async (probe, context) => {
  const { target } = context;
  const args = (probe.provider.arguments ?? {}) as Record<string, unknown>;
  switch (probe.provider.func) {
    case 'all_ready': {
      const services = (args['services'] as Service[] | undefined) ?? [...SERVICES];
      const ready = await Promise.all(services.map((service) => isReady(target.url(service))));
      // true, or the services that are not ready (the report shows who).
      const missing = services.filter((_service, index) => !ready[index]);
      return missing.length === 0 ? true : missing;
    }
    case 'order_confirms': {
      const client = await customer(target);
      const sku = await stockedSku(target);
      const response = await client.placeOrder({
        items: [{ sku, quantity: 1 }],
        paymentToken: (args['paymentToken'] as string | undefined) ?? 'tok_visa',
      });
      if (response.status !== 202) return `HTTP ${response.status}`;
      const { orderId } = (await response.json()) as { orderId: string };
      context.orderIds.push(orderId);
      const timeoutMs = typeof args['timeoutS'] === 'number' ? args['timeoutS'] * 1000 : 45_000;
      const order = await waitFor(
        `order ${orderId} to end`,
        async () => {
          const view = await client.order(orderId);
          return view.status === 'PENDING' ? undefined : view;
        },
        { timeoutMs, intervalMs: 250 },
      ).catch(() => ({ status: 'PENDING' }));
      return order.status;
    }
    case 'breaker_state': {
      const { body } = await readiness(target.url(args['service'] as Service));
      const details = (body as { details?: { breakers?: Record<string, { state?: string }> } } | undefined)?.details;
      return details?.breakers?.[args['breaker'] as string]?.state ?? 'missing';
    }
    case 'stale_read': {
      const path =
        args['path'] === '/products/:sku' ? `/products/${encodeURIComponent(await stockedSku(target))}` : '/products';
      const response = await fetch(`${target.url('gateway')}/api/v1${path}`, { signal: AbortSignal.timeout(15_000) });
      await response.body?.cancel();
      if (response.status !== 200) return String(response.status);
      return response.headers.get('x-cache') ?? 'fresh';
    }
    case 'unavailable_with_retry_after': {
      const client = await customer(target);
      const sku = await stockedSku(target);
      let unavailable = 0;
      let withoutRetryAfter = 0;
      let otherServerErrors = 0;
      for (let attempt = 0; attempt < (args['attempts'] as number); attempt++) {
        const response = await client.placeOrder({ items: [{ sku, quantity: 1 }], paymentToken: 'tok_visa' });
        if (response.status === 202) context.orderIds.push(((await response.json()) as { orderId: string }).orderId);
        else await response.body?.cancel();
        if (response.status === 503) {
          unavailable++;
          if (!response.headers.get('retry-after')) withoutRetryAfter++;
        } else if (response.status >= 500) otherServerErrors++;
      }
      return unavailable > 0 && withoutRetryAfter === 0 && otherServerErrors === 0;
    }
    case 'dead_letters': {
      if (context.deadLetters.size === 0) return false;
      const admin = kafkaClient(target.brokers).admin();
      await admin.connect();
      try {
        for (const [topic, expected] of context.deadLetters) {
          if ((await topicEnd(admin, topic)) < expected) return false;
        }
        return true;
      } finally {
        await admin.disconnect();
      }
    }
    case 'group_caught_up':
      return groupCaughtUp(target, args['service'] as Service);
    default:
      throw new Error(`"${probe.name}": unknown probe ${probe.provider.func}`);
  }
};
