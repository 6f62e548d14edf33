import { randomUUID } from 'node:crypto';
import { waitFor } from '@shop/testing';
import { type ServiceUnderTest, startServiceUnderTest } from '../testing/payment-service-under-test';
import { type ProviderStandIn, startProviderStandIn } from '../testing/provider-stand-in';
import { PROVIDER_POLICY } from './payment-provider.client';

/**
 * The card processor is the dependency nobody controls. A stand-in on
 * 127.0.0.1 plays it where a test must choose exactly what it does (decline
 * codes, an outage, a hang, refused connections); payment-service, the broker
 * and PostgreSQL are real. While the provider cannot answer, the charge stays
 * pending and is retried with the same Idempotency-Key; it is never declined.
 */
describe('payment-service when the payment provider fails', () => {
  let standIn: ProviderStandIn;
  let service: ServiceUnderTest;

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    service = await startServiceUnderTest(standIn.url);
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await standIn?.close();
  });

  afterEach(async () => {
    standIn.mode('answer');
    await waitFor('the breaker to be closed again', async () => (await breaker()).state === 'closed');
  });

  async function breaker(): Promise<{ state: string; readyStatus: number }> {
    const ready = await service.get('/health/ready');
    // Terminus puts each detail's fields beside its status: details.breakers[<policy>].state.
    const details = ready.body['details'] as Record<string, Record<string, { state?: string }> | undefined>;
    const state = details['breakers']?.[PROVIDER_POLICY]?.state ?? 'missing';
    return { state, readyStatus: ready.status };
  }

  const chargesTo = (orderId: string) =>
    standIn.requestsTo('/v1/charges').filter((request) => request.body?.['reference'] === orderId);

  it.each([
    ['tok_chargeDeclined', 'card_declined', 'PAYMENT_DECLINED'],
    ['tok_chargeDeclinedInsufficientFunds', 'insufficient_funds', 'INSUFFICIENT_FUNDS'],
  ])('answers a decline of %s (%s) with PaymentDeclined %s', async (token, _code, reason) => {
    const orderId = randomUUID();
    await service.publish(service.chargeMessage(orderId, 1500, token));
    const [declined] = await service.waitForEvents(orderId, 'PaymentDeclined');
    expect(declined?.payload).toEqual({ orderId, paymentId: expect.any(String), reason });
    expect(standIn.charges(orderId)).toHaveLength(1);
  });

  it('keeps a charge pending through an outage (503), opens the breaker, and captures once the provider is back', async () => {
    expect(await breaker()).toEqual({ state: 'closed', readyStatus: 200 });
    standIn.mode('outage');
    const orderId = randomUUID();
    await service.publish(service.chargeMessage(orderId, 2500));

    // The breaker opens; the service stays ready (an open breaker to the provider is a detail).
    await waitFor('the breaker to open', async () => {
      const now = await breaker();
      return now.state === 'open' && now.readyStatus === 200;
    });
    await waitFor('the charge to be tried again after the breaker opened', () => chargesTo(orderId).length >= 5);
    expect(await service.outboxTypes(orderId)).toEqual([]);
    expect((await service.get(`/payments/${orderId}`)).body).toMatchObject({ status: 'requested' });

    standIn.mode('answer');
    const [captured] = await service.waitForEvents(orderId, 'PaymentCaptured');
    expect(captured?.payload).toMatchObject({ orderId, amountCents: 2500 });
    await waitFor('the breaker to close', async () => (await breaker()).state === 'closed');

    const attempts = chargesTo(orderId);
    expect(new Set(attempts.map((request) => request.idempotencyKey))).toEqual(new Set([orderId]));
    expect(new Set(attempts.map((request) => JSON.stringify(request.body)))).toEqual(
      new Set([JSON.stringify({ reference: orderId, amountCents: 2500, currency: 'EUR', token: 'tok_visa' })]),
    );
    expect(standIn.charges(orderId)).toEqual([expect.objectContaining({ status: 'captured', amountCents: 2500 })]);
    expect(service.events(orderId).map((event) => event.type)).toEqual(['PaymentCaptured']);
  });

  it('abandons calls that hang (timeout), keeps the charge pending, and captures once the provider answers', async () => {
    standIn.mode('hang');
    const orderId = randomUUID();
    await service.publish(service.chargeMessage(orderId, 3100));

    const abortedBefore = standIn.aborted;
    await waitFor('hanging calls to be abandoned', () => standIn.aborted >= abortedBefore + 3);
    expect(await service.outboxTypes(orderId)).toEqual([]);

    standIn.mode('answer');
    const [captured] = await service.waitForEvents(orderId, 'PaymentCaptured');
    expect(captured?.payload).toMatchObject({ orderId, amountCents: 3100 });
    expect(new Set(chargesTo(orderId).map((request) => request.idempotencyKey))).toEqual(new Set([orderId]));
    expect(standIn.charges(orderId)).toHaveLength(1);
    expect(service.events(orderId).map((event) => event.type)).toEqual(['PaymentCaptured']);
  });

  it('keeps a charge pending while connections are refused, and captures once they are accepted', async () => {
    await standIn.refuseConnections();
    const orderId = randomUUID();
    const logsBefore = service.logs().length;
    await service.publish(service.chargeMessage(orderId, 800));
    const retried = (): number =>
      service
        .logs()
        .slice(logsBefore)
        .split('\n')
        .filter((line) => line.includes('dependency unavailable; partition paused, retrying')).length;
    await waitFor('the command to be retried as transient, twice', () => retried() >= 2);
    expect(chargesTo(orderId)).toEqual([]);
    expect(await service.outboxTypes(orderId)).toEqual([]);

    await standIn.acceptConnections();
    const [captured] = await service.waitForEvents(orderId, 'PaymentCaptured');
    expect(captured?.payload).toMatchObject({ orderId, amountCents: 800 });
    expect(service.events(orderId).map((event) => event.type)).toEqual(['PaymentCaptured']);
  });

  it('refunds a capture that lands after the saga gave up and asked for the refund (net zero)', async () => {
    standIn.mode('outage');
    const orderId = randomUUID();
    await service.publish(service.chargeMessage(orderId, 5000));
    await waitFor('the charge to be pending', () => chargesTo(orderId).length >= 2);
    // The saga timed out: its compensation waits behind the pending charge (same key, same partition).
    await service.publish(service.refundMessage(orderId));

    standIn.mode('answer');
    const [refunded] = await service.waitForEvents(orderId, 'PaymentRefunded');
    expect(refunded?.payload).toEqual({ orderId, amountCents: 5000, refundId: expect.stringMatching(/^re_/) });
    expect(service.events(orderId).map((event) => event.type)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    expect(standIn.charges(orderId)).toEqual([
      expect.objectContaining({ status: 'captured', amountCents: 5000, refundedCents: 5000 }),
    ]);
    const refunds = standIn.requests.filter((request) => request.path.endsWith('/refunds'));
    expect(new Set(refunds.map((request) => request.idempotencyKey))).toEqual(new Set([`refund-${orderId}`]));
  });
});
