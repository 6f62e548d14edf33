import { randomUUID } from 'node:crypto';
import { EVENT_STORE_MIGRATIONS, EventStore, migrate } from '@shop/event-store';
import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { paymentDecider } from './payment.decider';
import { PaymentStore } from './payment.store';

/**
 * PaymentStore keeps the state a charge's first step leaves for its second
 * (StateCache). When another writer got there in between, the second step is
 * decided on the stream, not on the cached state.
 */
describe('PaymentStore state cache (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('payment_store_cache');
    await migrate(db.pool, EVENT_STORE_MIGRATIONS);
    store = new EventStore(db.pool);
  });

  afterEach(() => jest.restoreAllMocks());
  afterAll(() => db.drop());

  const request = (amountCents: number) => ({
    decide: (state: Parameters<typeof paymentDecider.decide>[1]) =>
      paymentDecider.decide({ kind: 'RequestCharge', paymentId: randomUUID(), amountCents, currency: 'EUR' }, state),
  });
  const capture = (amountCents: number) => ({
    decide: (state: Parameters<typeof paymentDecider.decide>[1]) =>
      paymentDecider.decide(
        { kind: 'RecordCharge', outcome: { status: 'captured', chargeId: `ch_${randomUUID()}`, amountCents } },
        state,
      ),
  });

  it("decides a charge's second step on the state its first left, without reading the stream", async () => {
    const payments = new PaymentStore(db.pool, store);
    const orderId = randomUUID();
    await payments.write(orderId, request(2400));
    const reads = jest.spyOn(store, 'readStream');
    const captured = await payments.write(orderId, capture(2400));
    expect(reads).not.toHaveBeenCalled();
    expect(captured).toMatchObject({ outcome: 'written', state: { status: 'captured', capturedCents: 2400 } });
  });

  it("starts a charge's stream without reading it, and decides on the stream when it already exists", async () => {
    const payments = new PaymentStore(db.pool, store);
    const reads = jest.spyOn(store, 'readStream');
    const fresh = await payments.write(randomUUID(), { ...request(2400), newStream: true });
    expect(fresh).toMatchObject({ outcome: 'written', state: { status: 'requested' } });
    expect(reads).not.toHaveBeenCalled();

    // The compensation overtook the charge: the stream exists, and the charge is not requested on it.
    const orderId = randomUUID();
    await new PaymentStore(db.pool, store).write(orderId, {
      decide: (state) => paymentDecider.decide({ kind: 'RequestRefund' }, state),
    });
    const overtaken = await payments.write(orderId, { ...request(2400), newStream: true });
    expect(overtaken).toMatchObject({
      outcome: 'written',
      state: { status: 'none', refundRequested: true },
      events: [],
    });
    expect((await store.readStream(`payment-${orderId}`)).map((event) => event.type)).toEqual(['RefundRequested']);
  });

  it('decides on the stream when another writer appended after the cached state', async () => {
    const payments = new PaymentStore(db.pool, store);
    const orderId = randomUUID();
    await payments.write(orderId, request(2400));
    // The compensation, recorded by another process while the provider call was in flight.
    await new PaymentStore(db.pool, store).write(orderId, {
      decide: (state) => paymentDecider.decide({ kind: 'RequestRefund' }, state),
    });
    const captured = await payments.write(orderId, capture(2400));
    // Decided on what the stream holds: the refund request is part of the state the capture leaves.
    expect(captured).toMatchObject({ outcome: 'written', state: { status: 'captured', refundRequested: true } });
    expect((await store.readStream(`payment-${orderId}`)).map((event) => event.type)).toEqual([
      'PaymentRequested',
      'RefundRequested',
      'PaymentCaptured',
    ]);
  });

  it('takes a step that changes nothing on a cached state again on the stream', async () => {
    const payments = new PaymentStore(db.pool, store);
    const orderId = randomUUID();
    await payments.write(orderId, request(2400));
    await new PaymentStore(db.pool, store).write(orderId, capture(2400));
    // On the cached state (requested) a reply would say "pending"; the stream says captured.
    const answered = await payments.write(orderId, {});
    expect(answered).toMatchObject({ outcome: 'written', state: { status: 'captured' }, events: [] });
  });
});
