import { randomUUID } from 'node:crypto';
import { waitFor } from '@shop/testing';
import { type ServiceUnderTest, startServiceUnderTest } from './testing/payment-service-under-test';
import { type RealProvider, startRealProvider } from './testing/real-provider';

/**
 * payment-service in this process, against the real payment-provider (its own
 * process and ledger), the real broker and PostgreSQL: the saga's commands go
 * in on payment.commands, the answers come out on payment.events, and the
 * provider's ledger shows what money moved.
 */
describe('payment-service against the real payment-provider', () => {
  let provider: RealProvider;
  let service: ServiceUnderTest;

  beforeAll(async () => {
    provider = await startRealProvider();
    service = await startServiceUnderTest(provider.url);
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await provider?.stop();
  });

  it('captures once and answers PaymentCaptured with the amount, also to a redelivered or repeated ChargePayment', async () => {
    const orderId = randomUUID();
    const charge = service.chargeMessage(orderId, 1250);
    const callsBefore = await provider.chargeCalls();
    // The same message twice (a redelivery), then the saga asking again (a new message).
    await service.publish(charge, charge, service.chargeMessage(orderId, 1250));

    const answers = await service.waitForEvents(orderId, 'PaymentCaptured', 2);
    const [first] = answers;
    expect(first?.payload).toEqual({
      orderId,
      paymentId: expect.any(String),
      amountCents: 1250,
      chargeId: expect.stringMatching(/^ch_/),
    });
    expect(first?.correlationId).toBe(orderId);
    expect(first?.causationId).toBe(JSON.parse(charge.value).id);
    // The redelivery was absorbed by the inbox; the repeat got the same answer.
    expect(service.events(orderId).map((event) => event.type)).toEqual(['PaymentCaptured', 'PaymentCaptured']);
    expect(answers[1]?.payload).toEqual(first?.payload);

    const ledger = await provider.ledger(orderId);
    expect(ledger).toEqual([
      expect.objectContaining({ reference: orderId, amountCents: 1250, refundedCents: 0, status: 'captured' }),
    ]);
    // Neither the redelivery nor the repeat called the provider: the outcome was on record.
    expect(await provider.chargeCalls()).toBe(callsBefore + 1);
    const payment = await service.get(`/payments/${orderId}`);
    expect(payment.status).toBe(200);
    expect(payment.body).toMatchObject({
      orderId,
      status: 'captured',
      capturedCents: 1250,
      chargeId: ledger[0]?.chargeId,
    });
  });

  it('refunds a capture exactly once, however often RefundPayment is delivered', async () => {
    const orderId = randomUUID();
    await service.publish(service.chargeMessage(orderId, 4200));
    const [captured] = await service.waitForEvents(orderId, 'PaymentCaptured');

    const refund = service.refundMessage(orderId);
    await service.publish(refund, refund, service.refundMessage(orderId));
    const answers = await service.waitForEvents(orderId, 'PaymentRefunded', 2);
    expect(answers.map((answer) => answer.payload)).toEqual([
      { orderId, amountCents: 4200, refundId: expect.stringMatching(/^re_/) },
      answers[0]?.payload,
    ]);
    expect(service.events(orderId).map((event) => event.type)).toEqual([
      'PaymentCaptured',
      'PaymentRefunded',
      'PaymentRefunded',
    ]);
    expect(await provider.ledger(orderId)).toEqual([
      expect.objectContaining({
        chargeId: (captured?.payload as { chargeId: string }).chargeId,
        amountCents: 4200,
        refundedCents: 4200,
      }),
    ]);
    expect((await service.get(`/payments/${orderId}`)).body).toMatchObject({
      refundRequested: true,
      refundedCents: 4200,
      refundOwedCents: 0,
    });
  });

  it('answers a refund before its charge with "nothing captured", and the late ChargePayment charges nothing', async () => {
    const orderId = randomUUID();
    await service.publish(service.refundMessage(orderId));
    const [refunded] = await service.waitForEvents(orderId, 'PaymentRefunded');
    expect(refunded?.payload).toEqual({ orderId, amountCents: 0, refundId: null });

    const late = service.chargeMessage(orderId, 990);
    await service.publish(late);
    await waitFor('the late ChargePayment to be handled', () => service.handled(JSON.parse(late.value).id));
    expect(await provider.ledger(orderId)).toEqual([]);
    expect(await service.outboxTypes(orderId)).toEqual(['PaymentRefunded']);
    expect((await service.get(`/payments/${orderId}`)).body).toMatchObject({
      status: 'none',
      refundRequested: true,
      capturedCents: 0,
    });
  });

  it('answers a declined charge, and its refund refunds nothing', async () => {
    const orderId = randomUUID();
    await service.publish(service.chargeMessage(orderId, 700, 'tok_chargeDeclinedInsufficientFunds'));
    const [declined] = await service.waitForEvents(orderId, 'PaymentDeclined');
    expect(declined?.payload).toEqual({ orderId, paymentId: expect.any(String), reason: 'INSUFFICIENT_FUNDS' });

    await service.publish(service.refundMessage(orderId));
    const [refunded] = await service.waitForEvents(orderId, 'PaymentRefunded');
    expect(refunded?.payload).toEqual({ orderId, amountCents: 0, refundId: null });
    expect(await provider.ledger(orderId)).toEqual([
      expect.objectContaining({ status: 'declined', amountCents: 700, refundedCents: 0 }),
    ]);
  });

  it('dead-letters a charge the provider refuses (never a decline), and its refund still finds and refunds a capture in the ledger', async () => {
    const orderId = randomUUID();
    const deadBefore = await service.deadLetters();
    // A token the provider refuses (400): a definitive refusal, not an outage and not a card decline.
    await service.publish(service.chargeMessage(orderId, 1999, 'tok_unknown'));
    await waitFor(
      'the refused ChargePayment to be dead-lettered',
      async () => (await service.deadLetters()) > deadBefore,
    );
    expect(await service.outboxTypes(orderId)).toEqual([]);
    expect((await service.get(`/payments/${orderId}`)).body).toMatchObject({ status: 'requested' });

    // Money was taken under the order's key all the same (an answer lost on the way): only the ledger knows.
    const charged = await fetch(`${provider.url}/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': orderId },
      body: JSON.stringify({ reference: orderId, amountCents: 1999, currency: 'EUR', token: 'tok_visa' }),
    });
    expect(charged.status).toBe(201);

    await service.publish(service.refundMessage(orderId));
    const [refunded] = await service.waitForEvents(orderId, 'PaymentRefunded');
    expect(refunded?.payload).toEqual({ orderId, amountCents: 1999, refundId: expect.stringMatching(/^re_/) });
    expect(service.events(orderId).map((event) => event.type)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    expect(await provider.ledger(orderId)).toEqual([
      expect.objectContaining({ status: 'captured', amountCents: 1999, refundedCents: 1999 }),
    ]);
  });

  it('GET /payments/:orderId answers 404 problem+json for an unknown or malformed order id', async () => {
    for (const id of [randomUUID(), 'not-an-order']) {
      const reply = await service.get(`/payments/${id}`);
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({ status: 404, title: 'payment not found' });
    }
  });
});
