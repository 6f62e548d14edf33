import { randomUUID } from 'node:crypto';
import { type ChargeBody, type ProviderUnderTest, startProviderUnderTest } from '../testing/provider-under-test';

describe('POST /v1/charges (real PostgreSQL, over HTTP)', () => {
  let provider: ProviderUnderTest;

  beforeAll(async () => {
    provider = await startProviderUnderTest();
  });

  afterAll(() => provider.stop());

  const chargeBody = (token = 'tok_visa') => ({
    reference: `order-${randomUUID()}`,
    amountCents: 1250,
    currency: 'EUR',
    token,
  });

  async function ledgerRows(reference: string) {
    const { rows } = await provider.db.pool.query<{ charge_id: string; status: string; decline_code: string | null }>(
      'select charge_id, status, decline_code from charges where reference = $1',
      [reference],
    );
    return rows;
  }

  async function written(): Promise<number[]> {
    return [await provider.count('charges'), await provider.count('idempotency_keys')];
  }

  describe('test tokens', () => {
    it('captures tok_visa and records the charge in the ledger', async () => {
      const body = chargeBody('tok_visa');
      const reply = await provider.post<ChargeBody>('/v1/charges', body);
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({ chargeId: expect.stringMatching(/^ch_/), status: 'captured' });
      const { rows } = await provider.db.pool.query(
        'select charge_id, reference, amount_cents, currency, status, decline_code, refunded_cents from charges where reference = $1',
        [body.reference],
      );
      expect(rows).toEqual([
        {
          charge_id: reply.body.chargeId,
          reference: body.reference,
          amount_cents: '1250',
          currency: 'EUR',
          status: 'captured',
          decline_code: null,
          refunded_cents: '0',
        },
      ]);
    });

    it.each([
      ['tok_chargeDeclined', 'card_declined'],
      ['tok_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ])('declines %s with %s, and records the decline', async (token, declineCode) => {
      const body = chargeBody(token);
      const reply = await provider.post<ChargeBody>('/v1/charges', body);
      expect(reply.status).toBe(201);
      expect(reply.body).toEqual({ chargeId: expect.stringMatching(/^ch_/), status: 'declined', declineCode });
      expect(await ledgerRows(body.reference)).toEqual([
        { charge_id: reply.body.chargeId, status: 'declined', decline_code: declineCode },
      ]);
    });

    it('refuses any other token with 400 and writes nothing', async () => {
      const before = await written();
      const reply = await provider.post('/v1/charges', chargeBody('tok_mastercard'));
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body['errors']).toEqual([{ path: 'token', message: expect.stringContaining('tok_visa') }]);
      expect(await written()).toEqual(before);
    });
  });

  describe('idempotency', () => {
    it('answers a replay with the same 201 and body, and charges once', async () => {
      const key = randomUUID();
      const body = chargeBody();
      const first = await provider.post<ChargeBody>('/v1/charges', body, key);
      // The same JSON value with its keys in another order is the same request.
      const reordered = {
        token: body.token,
        currency: body.currency,
        amountCents: body.amountCents,
        reference: body.reference,
      };
      const second = await provider.post<ChargeBody>('/v1/charges', reordered, key);
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(first.headers.get('idempotent-replayed')).toBe('false');
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await ledgerRows(body.reference)).toHaveLength(1);
    });

    it('replays a decline as a decline', async () => {
      const key = randomUUID();
      const body = chargeBody('tok_chargeDeclinedInsufficientFunds');
      const first = await provider.post('/v1/charges', body, key);
      const second = await provider.post('/v1/charges', body, key);
      expect(second.body).toEqual(first.body);
      expect(second.body['declineCode']).toBe('insufficient_funds');
      expect(await ledgerRows(body.reference)).toHaveLength(1);
    });

    it('charges once when 20 identical requests arrive at the same time', async () => {
      const key = randomUUID();
      const body = chargeBody();
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => provider.post<ChargeBody>('/v1/charges', body, key)),
      );
      expect(replies.map((reply) => reply.status)).toEqual(Array.from({ length: 20 }, () => 201));
      const chargeIds = new Set(replies.map((reply) => reply.body.chargeId));
      expect(chargeIds.size).toBe(1);
      expect(replies.filter((reply) => reply.headers.get('idempotent-replayed') === 'false')).toHaveLength(1);
      const rows = await ledgerRows(body.reference);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.charge_id).toBe([...chargeIds][0]);
      const keys = await provider.db.pool.query('select 1 from idempotency_keys where scope = $1 and key = $2', [
        'charge',
        key,
      ]);
      expect(keys.rowCount).toBe(1);
    });

    it('answers 409 to the same key with another body, and charges nothing more', async () => {
      const key = randomUUID();
      const body = chargeBody();
      await provider.post('/v1/charges', body, key);
      const before = await written();
      const reply = await provider.post('/v1/charges', { ...body, amountCents: 1300 }, key);
      expect(reply.status).toBe(409);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body).toMatchObject({ status: 409, title: 'idempotency key reused', instance: '/v1/charges' });
      expect(await written()).toEqual(before);
    });

    it('requires an Idempotency-Key: 400 problem+json without one, and nothing written', async () => {
      const before = await written();
      const reply = await provider.request('POST', '/v1/charges', { body: chargeBody() });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body).toMatchObject({
        status: 400,
        errors: [{ path: 'headers.idempotency-key', message: 'required' }],
      });
      expect(await written()).toEqual(before);
    });

    it('refuses an Idempotency-Key over 255 characters', async () => {
      const reply = await provider.post('/v1/charges', chargeBody(), 'k'.repeat(256));
      expect(reply.status).toBe(400);
      expect(reply.body['errors']).toEqual([{ path: 'headers.idempotency-key', message: 'at most 255 characters' }]);
    });
  });

  describe('validation', () => {
    it.each([
      ['an unknown field', { extra: true }, 'extra'],
      ['amountCents 0', { amountCents: 0 }, 'amountCents'],
      ['a fractional amountCents', { amountCents: 12.5 }, 'amountCents'],
      ['amountCents as a string', { amountCents: '1250' }, 'amountCents'],
      ['a lower-case currency', { currency: 'eur' }, 'currency'],
      ['a four-letter currency', { currency: 'EURO' }, 'currency'],
      ['an empty reference', { reference: '' }, 'reference'],
      ['a missing token', { token: undefined }, 'token'],
    ])('refuses %s with 400 problem+json naming the field, and writes nothing', async (_, change, path) => {
      const before = await written();
      const reply = await provider.post('/v1/charges', { ...chargeBody(), ...change });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body).toEqual({
        type: expect.any(String),
        title: 'invalid request',
        status: 400,
        detail: expect.any(String),
        instance: '/v1/charges',
        errors: [{ path, message: expect.any(String) }],
      });
      expect(await written()).toEqual(before);
    });

    it('refuses a body that is not an object', async () => {
      const reply = await provider.post('/v1/charges', [chargeBody()]);
      expect(reply.status).toBe(400);
      expect(reply.body['errors']).toEqual([{ path: '(root)', message: expect.any(String) }]);
    });

    it('refuses malformed JSON with 400 problem+json', async () => {
      const before = await written();
      const reply = await provider.request('POST', '/v1/charges', {
        body: '{"reference": "order-1", "amountCents": ',
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.body).toMatchObject({ status: 400, instance: '/v1/charges' });
      expect(await written()).toEqual(before);
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
      'refuses a %s body with 415 problem+json',
      async (contentType) => {
        const before = await written();
        const reply = await provider.request('POST', '/v1/charges', {
          body:
            contentType === 'application/x-www-form-urlencoded' ? 'reference=order-1' : JSON.stringify(chargeBody()),
          headers: { 'content-type': contentType, 'idempotency-key': randomUUID() },
        });
        expect(reply.status).toBe(415);
        expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(reply.body).toMatchObject({ status: 415, title: 'unsupported media type' });
        expect(await written()).toEqual(before);
      },
    );

    it('refuses a body over 64 KiB with 413 problem+json', async () => {
      const reply = await provider.post('/v1/charges', { ...chargeBody(), reference: 'x'.repeat(70_000) });
      expect(reply.status).toBe(413);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });
});
