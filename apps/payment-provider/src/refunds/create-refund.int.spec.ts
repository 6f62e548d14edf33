import { randomUUID } from 'node:crypto';
import { type ChargeBody, type ProviderUnderTest, startProviderUnderTest } from '../testing/provider-under-test';

interface RefundBody {
  readonly refundId: string;
  readonly chargeId: string;
  readonly amountCents: number;
}

describe('POST /v1/charges/:chargeId/refunds (real PostgreSQL, over HTTP)', () => {
  let provider: ProviderUnderTest;

  beforeAll(async () => {
    provider = await startProviderUnderTest();
  });

  afterAll(() => provider.stop());

  async function charge(amountCents: number, token = 'tok_visa'): Promise<string> {
    const reply = await provider.post<ChargeBody>('/v1/charges', {
      reference: `order-${randomUUID()}`,
      amountCents,
      currency: 'EUR',
      token,
    });
    expect(reply.status).toBe(201);
    return reply.body.chargeId;
  }

  const refund = (chargeId: string, amountCents: number, key?: string) =>
    provider.post<RefundBody>(`/v1/charges/${chargeId}/refunds`, { amountCents }, key);

  /** What the ledger holds for a charge: its refunded total and the sum of its refund rows. */
  async function refunded(chargeId: string) {
    const { rows } = await provider.db.pool.query<{ refunded: string; refunds: string; count: string }>(
      `select c.refunded_cents as refunded,
              coalesce((select sum(amount_cents) from refunds r where r.charge_id = c.charge_id), 0) as refunds,
              (select count(*) from refunds r where r.charge_id = c.charge_id) as count
         from charges c where c.charge_id = $1`,
      [chargeId],
    );
    const row = rows[0];
    return { refundedCents: Number(row?.refunded), sumOfRefunds: Number(row?.refunds), refunds: Number(row?.count) };
  }

  it('refunds part of a captured charge, then the rest', async () => {
    const chargeId = await charge(100);
    const first = await refund(chargeId, 40);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ refundId: expect.stringMatching(/^re_/), chargeId, amountCents: 40 });
    const second = await refund(chargeId, 60);
    expect(second.status).toBe(201);
    expect(second.body.refundId).not.toBe(first.body.refundId);
    expect(await refunded(chargeId)).toEqual({ refundedCents: 100, sumOfRefunds: 100, refunds: 2 });
  });

  it('refuses to refund more than was captured in total, with 409 and nothing written', async () => {
    const chargeId = await charge(100);
    await refund(chargeId, 70);
    const reply = await refund(chargeId, 31);
    expect(reply.status).toBe(409);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status: 409, title: 'refund exceeds captured amount' });
    expect(await refunded(chargeId)).toEqual({ refundedCents: 70, sumOfRefunds: 70, refunds: 1 });
    expect((await refund(chargeId, 101)).status).toBe(409);
  });

  it('refunds exactly 3 of 10 concurrent refunds of 30 on a charge of 100', async () => {
    const chargeId = await charge(100);
    const replies = await Promise.all(Array.from({ length: 10 }, () => refund(chargeId, 30)));
    expect(replies.filter((reply) => reply.status === 201)).toHaveLength(3);
    expect(replies.filter((reply) => reply.status === 409)).toHaveLength(7);
    expect(await refunded(chargeId)).toEqual({ refundedCents: 90, sumOfRefunds: 90, refunds: 3 });
  });

  it('refuses to refund a declined charge with 409', async () => {
    const chargeId = await charge(100, 'tok_chargeDeclined');
    const reply = await refund(chargeId, 10);
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ status: 409, title: 'charge not refundable' });
    expect(await refunded(chargeId)).toEqual({ refundedCents: 0, sumOfRefunds: 0, refunds: 0 });
  });

  it('answers 404 problem+json for an unknown charge', async () => {
    const before = await provider.count('idempotency_keys');
    const reply = await refund('ch_unknown', 10);
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status: 404, instance: '/v1/charges/ch_unknown/refunds' });
    expect(await provider.count('idempotency_keys')).toBe(before);
  });

  describe('idempotency', () => {
    it('answers a replay with the same 201 and body, and refunds once', async () => {
      const chargeId = await charge(100);
      const key = randomUUID();
      const first = await refund(chargeId, 25, key);
      const second = await refund(chargeId, 25, key);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await refunded(chargeId)).toEqual({ refundedCents: 25, sumOfRefunds: 25, refunds: 1 });
    });

    it('refunds once when 10 identical requests arrive at the same time', async () => {
      const chargeId = await charge(100);
      const key = randomUUID();
      const replies = await Promise.all(Array.from({ length: 10 }, () => refund(chargeId, 60, key)));
      expect(replies.map((reply) => reply.status)).toEqual(Array.from({ length: 10 }, () => 201));
      expect(new Set(replies.map((reply) => reply.body.refundId)).size).toBe(1);
      expect(await refunded(chargeId)).toEqual({ refundedCents: 60, sumOfRefunds: 60, refunds: 1 });
    });

    it('answers 409 to the same key with another amount or another charge', async () => {
      const [chargeId, otherChargeId] = [await charge(100), await charge(100)];
      const key = randomUUID();
      await refund(chargeId, 10, key);
      const otherAmount = await refund(chargeId, 20, key);
      expect(otherAmount.status).toBe(409);
      expect(otherAmount.body).toMatchObject({ title: 'idempotency key reused' });
      expect((await refund(otherChargeId, 10, key)).status).toBe(409);
      expect(await refunded(chargeId)).toEqual({ refundedCents: 10, sumOfRefunds: 10, refunds: 1 });
      expect(await refunded(otherChargeId)).toEqual({ refundedCents: 0, sumOfRefunds: 0, refunds: 0 });
    });

    it('records nothing for a refused refund, so its key stays free', async () => {
      const chargeId = await charge(100);
      const key = randomUUID();
      expect((await refund(chargeId, 150, key)).status).toBe(409);
      expect((await refund(chargeId, 50, key)).status).toBe(201);
    });

    it('requires an Idempotency-Key', async () => {
      const chargeId = await charge(100);
      const reply = await provider.request('POST', `/v1/charges/${chargeId}/refunds`, { body: { amountCents: 10 } });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ errors: [{ path: 'headers.idempotency-key', message: 'required' }] });
      expect(await refunded(chargeId)).toEqual({ refundedCents: 0, sumOfRefunds: 0, refunds: 0 });
    });
  });

  describe('validation', () => {
    it.each([
      ['amountCents 0', { amountCents: 0 }, 'amountCents'],
      ['a negative amountCents', { amountCents: -5 }, 'amountCents'],
      ['a fractional amountCents', { amountCents: 0.5 }, 'amountCents'],
      ['an unknown field', { amountCents: 10, reason: 'customer' }, 'reason'],
      ['a missing amountCents', {}, 'amountCents'],
    ])('refuses %s with 400 problem+json naming the field, and writes nothing', async (_, body, path) => {
      const chargeId = await charge(100);
      const reply = await provider.post(`/v1/charges/${chargeId}/refunds`, body);
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body).toMatchObject({ status: 400, errors: [{ path, message: expect.any(String) }] });
      expect(await refunded(chargeId)).toEqual({ refundedCents: 0, sumOfRefunds: 0, refunds: 0 });
    });

    it('refuses a body that is not JSON with 415', async () => {
      const chargeId = await charge(100);
      const reply = await provider.request('POST', `/v1/charges/${chargeId}/refunds`, {
        body: 'amountCents=10',
        headers: { 'content-type': 'text/plain', 'idempotency-key': randomUUID() },
      });
      expect(reply.status).toBe(415);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });
});
