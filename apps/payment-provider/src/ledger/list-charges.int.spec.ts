import { randomUUID } from 'node:crypto';
import { type ChargeBody, type ProviderUnderTest, startProviderUnderTest } from '../testing/provider-under-test';
import type { LedgerCharge } from './list-charges.dto';

describe('GET /v1/charges?reference= (real PostgreSQL, over HTTP)', () => {
  let provider: ProviderUnderTest;

  beforeAll(async () => {
    provider = await startProviderUnderTest();
  });

  afterAll(() => provider.stop());

  async function charge(reference: string, amountCents: number, token: string): Promise<string> {
    const reply = await provider.post<ChargeBody>('/v1/charges', { reference, amountCents, currency: 'EUR', token });
    return reply.body.chargeId;
  }

  it('lists every charge of one reference, oldest first, with what was refunded', async () => {
    const reference = `order-${randomUUID()}`;
    const declined = await charge(reference, 1500, 'tok_chargeDeclined');
    const captured = await charge(reference, 1500, 'tok_visa');
    await charge(`order-${randomUUID()}`, 999, 'tok_visa');
    await provider.post(`/v1/charges/${captured}/refunds`, { amountCents: 500 });

    const reply = await provider.request<{ items: LedgerCharge[] }>(
      'GET',
      `/v1/charges?reference=${encodeURIComponent(reference)}`,
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      items: [
        {
          chargeId: declined,
          reference,
          amountCents: 1500,
          refundedCents: 0,
          currency: 'EUR',
          status: 'declined',
          createdAt: expect.any(String),
        },
        {
          chargeId: captured,
          reference,
          amountCents: 1500,
          refundedCents: 500,
          currency: 'EUR',
          status: 'captured',
          createdAt: expect.any(String),
        },
      ],
    });
    const [first, second] = reply.body.items;
    expect(Date.parse(first?.createdAt ?? '')).toBeLessThanOrEqual(Date.parse(second?.createdAt ?? ''));
    expect(new Date(first?.createdAt ?? '').toISOString()).toBe(first?.createdAt);
  });

  it('answers an empty list for a reference without charges', async () => {
    const reply = await provider.request('GET', `/v1/charges?reference=order-${randomUUID()}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ items: [] });
  });

  it.each([
    ['without reference', '/v1/charges', 'query.reference'],
    ['with an empty reference', '/v1/charges?reference=', 'query.reference'],
    ['with an unknown parameter', '/v1/charges?reference=order-1&limit=5', 'query.limit'],
  ])('answers 400 problem+json %s', async (_, path, errorPath) => {
    const reply = await provider.request('GET', path);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status: 400, errors: [{ path: errorPath, message: expect.any(String) }] });
  });
});
