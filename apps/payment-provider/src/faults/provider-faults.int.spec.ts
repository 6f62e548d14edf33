import { randomUUID } from 'node:crypto';
import { type ChargeBody, type ProviderUnderTest, startProviderUnderTest } from '../testing/provider-under-test';
import { OUTAGE_RETRY_AFTER_S } from './outage.hook';

const chargeBody = (token = 'tok_visa') => ({
  reference: `order-${randomUUID()}`,
  amountCents: 2000,
  currency: 'EUR',
  token,
});

describe('payment-provider faults (real PostgreSQL, over HTTP)', () => {
  let provider: ProviderUnderTest;

  beforeAll(async () => {
    provider = await startProviderUnderTest();
  });

  afterEach(() => provider.clearFaults());

  afterAll(() => provider.stop());

  async function written(): Promise<number[]> {
    return [await provider.count('charges'), await provider.count('refunds'), await provider.count('idempotency_keys')];
  }

  describe('outage', () => {
    it('answers every /v1 request 503 problem+json with Retry-After, and writes nothing', async () => {
      const captured = await provider.post<ChargeBody>('/v1/charges', chargeBody());
      const key = randomUUID();
      const body = chargeBody();
      await provider.setFaults({ outage: true });
      const before = await written();

      const replies = [
        await provider.post('/v1/charges', body, key),
        await provider.post(`/v1/charges/${captured.body.chargeId}/refunds`, { amountCents: 100 }),
        await provider.request('GET', `/v1/charges?reference=${body.reference}`),
        await provider.request('POST', '/v1/charges', {
          body: '{"not json',
          headers: { 'idempotency-key': randomUUID() },
        }),
      ];
      for (const reply of replies) {
        expect(reply.status).toBe(503);
        expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(reply.headers.get('retry-after')).toBe(String(OUTAGE_RETRY_AFTER_S));
        expect(reply.body).toMatchObject({ status: 503, title: 'provider outage' });
      }
      expect(await written()).toEqual(before);

      // Health and the admin routes keep working during the outage.
      expect((await provider.request('GET', '/health/ready')).status).toBe(200);

      // After the outage the same key is a first request: nothing was recorded for it.
      await provider.clearFaults();
      const after = await provider.post<ChargeBody>('/v1/charges', body, key);
      expect(after.status).toBe(201);
      expect(after.headers.get('idempotent-replayed')).toBe('false');
      expect(after.body.status).toBe('captured');
    });
  });

  describe('declineRate', () => {
    it('declines every otherwise approved charge with card_declined at declineRate 1', async () => {
      await provider.setFaults({ declineRate: 1 });
      const body = chargeBody('tok_visa');
      const reply = await provider.post<ChargeBody>('/v1/charges', body);
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({ chargeId: expect.any(String), status: 'declined', declineCode: 'card_declined' });
      const { rows } = await provider.db.pool.query('select status, decline_code from charges where reference = $1', [
        body.reference,
      ]);
      expect(rows).toEqual([{ status: 'declined', decline_code: 'card_declined' }]);
    });

    it('keeps the decline code of a token that is declined anyway', async () => {
      await provider.setFaults({ declineRate: 1 });
      const reply = await provider.post('/v1/charges', chargeBody('tok_chargeDeclinedInsufficientFunds'));
      expect(reply.body['declineCode']).toBe('insufficient_funds');
    });

    it('replays the recorded outcome, never a new draw', async () => {
      const key = randomUUID();
      const body = chargeBody('tok_visa');
      await provider.setFaults({ declineRate: 1 });
      const declined = await provider.post('/v1/charges', body, key);
      await provider.clearFaults();
      const replay = await provider.post('/v1/charges', body, key);
      expect(replay.body).toEqual(declined.body);
      expect(replay.body['status']).toBe('declined');
    });

    it('captures again once the faults are cleared', async () => {
      await provider.setFaults({ declineRate: 1 });
      await provider.clearFaults();
      expect((await provider.post('/v1/charges', chargeBody('tok_visa'))).body['status']).toBe('captured');
    });
  });

  describe('/admin/faults', () => {
    it('takes the common faults with the provider ones, and shows them', async () => {
      await provider.setFaults({ latencyMs: 1, errorRate: 0, declineRate: 0.25, outage: false });
      const reply = await provider.request('GET', '/admin/faults', {
        headers: { authorization: 'Bearer payment-provider-int-chaos-token' },
      });
      expect(reply.body).toEqual({ latencyMs: 1, errorRate: 0, declineRate: 0.25, outage: false });
    });

    it('refuses a declineRate outside 0..1 and an outage that is not a boolean', async () => {
      const admin = { authorization: 'Bearer payment-provider-int-chaos-token' };
      expect(
        (await provider.request('PUT', '/admin/faults', { body: { declineRate: 2 }, headers: admin })).status,
      ).toBe(400);
      expect((await provider.request('PUT', '/admin/faults', { body: { outage: 'yes' }, headers: admin })).status).toBe(
        400,
      );
    });

    it('refuses a caller without the chaos token', async () => {
      expect((await provider.request('PUT', '/admin/faults', { body: { outage: true } })).status).toBe(401);
    });

    it('answers injected errors from the common faults with 503 on /v1, and writes nothing', async () => {
      await provider.setFaults({ errorRate: 1 });
      const before = await written();
      const reply = await provider.post('/v1/charges', chargeBody());
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).not.toBeNull();
      expect(await written()).toEqual(before);
    });
  });
});

describe('payment-provider declineRate with known draws', () => {
  const draws = [0.2, 0.7, 0.49, 0.5];
  let provider: ProviderUnderTest;

  beforeAll(async () => {
    provider = await startProviderUnderTest({ random: () => draws.shift() ?? 1 });
  });

  afterAll(() => provider.stop());

  it('declines the share of approved charges that the rate gives (a draw below it declines)', async () => {
    await provider.setFaults({ declineRate: 0.5 });
    const statuses: unknown[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await provider.post('/v1/charges', chargeBody())).body['status']);
    expect(statuses).toEqual(['declined', 'captured', 'declined', 'captured']);
  });
});

describe('payment-provider with CHAOS_ENABLED unset', () => {
  let provider: ProviderUnderTest;

  beforeAll(async () => {
    provider = await startProviderUnderTest({ chaos: false });
  });

  afterAll(() => provider.stop());

  it('has no /admin/faults routes, and charges as usual', async () => {
    const put = await provider.request('PUT', '/admin/faults', {
      body: { outage: true },
      headers: { authorization: 'Bearer payment-provider-int-chaos-token' },
    });
    expect(put.status).toBe(404);
    expect((await provider.request('GET', '/admin/faults')).status).toBe(404);
    expect((await provider.post('/v1/charges', chargeBody())).body['status']).toBe('captured');
  });
});
