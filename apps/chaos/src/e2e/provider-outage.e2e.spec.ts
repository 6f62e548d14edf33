import { waitFor } from '@shop/testing';
import { adminCall, chargesFor, placeAccepted, settledAudit, stackEnv, terminal } from './e2e-support';
import { ShopClient } from './shop-client';

/**
 * The card processor goes down: payment-service keeps the charges pending
 * and its breaker opens (visible in its readiness details, while it stays
 * ready); the saga times the orders out, REJECTED TIMEOUT, with nothing
 * charged in the end; once the processor is back, orders are confirmed again.
 */
const POLICY = 'payment-provider';

async function providerBreaker(): Promise<{ ready: number; state: string }> {
  const response = await fetch(`${stackEnv('PAYMENT_SERVICE_URL')}/health/ready`);
  const body = (await response.json()) as { details?: Record<string, Record<string, { state?: string }> | undefined> };
  return { ready: response.status, state: body.details?.['breakers']?.[POLICY]?.state ?? 'missing' };
}

const placed: string[] = [];

afterAll(async () => {
  // Whatever happened above, the processor is up again for the specs that follow.
  await adminCall('PAYMENT_PROVIDER_URL', 'CHAOS_TOKEN', 'DELETE', '/admin/faults');
});

describe('payment provider outage (e2e, through the gateway)', () => {
  it('opens the breaker, rejects with TIMEOUT and charges nothing, then recovers', async () => {
    const client = await ShopClient.fromEnv().signUp();
    expect(await providerBreaker()).toEqual({ ready: 200, state: 'closed' });

    const outage = await adminCall('PAYMENT_PROVIDER_URL', 'CHAOS_TOKEN', 'PUT', '/admin/faults', { outage: true });
    expect(outage.status).toBe(200);

    const during = [
      await placeAccepted(client, [{ sku: 'STICKER-001', quantity: 1 }]),
      await placeAccepted(client, [{ sku: 'STICKER-001', quantity: 2 }]),
    ];
    placed.push(...during);

    // The breaker opens on the failed calls; an open breaker to a dependency does not make the service unready.
    const open = await waitFor(
      'the breaker to the provider to open',
      async () => {
        const breaker = await providerBreaker();
        return breaker.state === 'open' ? breaker : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(open.ready).toBe(200);

    // SAGA_TIMEOUT_MS (30 s by default) after acceptance the saga gives up and compensates.
    for (const orderId of during) {
      expect(await terminal(client, orderId, 90_000)).toMatchObject({ status: 'REJECTED', reason: 'TIMEOUT' });
    }

    const cleared = await adminCall('PAYMENT_PROVIDER_URL', 'CHAOS_TOKEN', 'DELETE', '/admin/faults');
    expect(cleared.status).toBeLessThan(300);

    // Recovery: the breaker lets a trial call through and closes, and a new order is confirmed.
    const after = await placeAccepted(client, [{ sku: 'STICKER-001', quantity: 1 }]);
    placed.push(after);
    expect(await terminal(client, after, 60_000)).toMatchObject({ status: 'CONFIRMED' });
    await waitFor('the breaker to close', async () => (await providerBreaker()).state === 'closed', {
      timeoutMs: 30_000,
    });

    // Net zero for the timed-out orders at the processor: any capture that got through was refunded.
    // Payment-service may still be retrying a pending charge; wait until the ledger settles.
    await waitFor(
      'the timed-out orders to be net zero at the provider',
      async () => {
        const charges = (await Promise.all(during.map(chargesFor))).flat();
        return charges.every((charge) => charge.status !== 'captured' || charge.refundedCents === charge.amountCents);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect((await settledAudit(placed)).violations).toEqual([]);
  }, 240_000);
});
