import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FaultInjector } from '@shop/health';
import type pg from 'pg';
import { currentProviderFaults, PROVIDER_FAULTS, RANDOM } from '../faults/provider-faults';
import { type IdempotentOutcome, insertOnce } from '../idempotency/idempotency';
import { LEDGER_POOL } from '../ledger/ledger.tokens';
import { authorize } from './card-tokens';
import type { ChargeResponse, CreateChargeRequest } from './create-charge.dto';

/**
 * Charges a card once per Idempotency-Key: the outcome (captured, or declined
 * with a code) is decided by the token and the decline-rate fault, and written
 * to the ledger together with the response a replay will get, in one
 * statement. A decline is a charge too: it has a row, and a replay gets the
 * same decline.
 */
@Injectable()
export class CreateChargeHandler {
  constructor(
    @Inject(LEDGER_POOL) private readonly pool: pg.Pool,
    @Inject(PROVIDER_FAULTS) private readonly faults: FaultInjector,
    @Inject(RANDOM) private readonly random: () => number,
  ) {}

  execute(idempotencyKey: string, request: CreateChargeRequest): Promise<IdempotentOutcome<ChargeResponse>> {
    // Drawn before the key is claimed, but only the draw of the request that claims it is recorded:
    // a replay gets the recorded outcome and never re-rolls it.
    const { declineRate } = currentProviderFaults(this.faults);
    const authorization = authorize(request.token, { declineRate, draw: this.random() });
    const chargeId = `ch_${randomUUID()}`;
    const declineCode = authorization.status === 'declined' ? authorization.declineCode : null;
    return insertOnce<ChargeResponse>(
      this.pool,
      { scope: 'charge', key: idempotencyKey, request },
      {
        body: { chargeId, status: authorization.status, ...(declineCode ? { declineCode } : {}) },
        name: 'charge-insert',
        sql: `insert into charges (charge_id, reference, amount_cents, currency, status, decline_code)
              select $1, $2, $3, $4, $5, $6 where exists (select 1 from claimed)`,
        values: [chargeId, request.reference, request.amountCents, request.currency, authorization.status, declineCode],
      },
    );
  }
}
