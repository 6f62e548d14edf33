import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { problemException } from '../http/problems';
import { type IdempotentOutcome, runOnce } from '../idempotency/idempotency';
import { LEDGER_POOL } from '../ledger/ledger.tokens';
import type { CreateRefundRequest, RefundResponse } from './create-refund.dto';
import { decideRefund, type RefundableCharge } from './refund-rules';

interface ChargeRow {
  readonly status: 'captured' | 'declined';
  readonly amount_cents: string;
  readonly refunded_cents: string;
}

/**
 * Refunds part or all of a captured charge, once per Idempotency-Key. The
 * charge row is locked (`for update`) before the rules look at it, so
 * concurrent refunds of one charge are decided one after the other and their
 * sum never exceeds the captured amount. A refused refund writes nothing.
 */
@Injectable()
export class CreateRefundHandler {
  constructor(@Inject(LEDGER_POOL) private readonly pool: pg.Pool) {}

  execute(
    idempotencyKey: string,
    chargeId: string,
    request: CreateRefundRequest,
  ): Promise<IdempotentOutcome<RefundResponse>> {
    const idempotent = { scope: 'refund', key: idempotencyKey, request: { chargeId, ...request } } as const;
    return runOnce<RefundResponse>(this.pool, idempotent, async (tx) => {
      const { rows } = await tx.query<ChargeRow>(
        'select status, amount_cents, refunded_cents from charges where charge_id = $1 for update',
        [chargeId],
      );
      const decision = decideRefund(rows[0] && toCharge(rows[0]), request.amountCents);
      switch (decision.kind) {
        case 'unknown-charge':
          throw problemException(404, 'charge not found', `there is no charge ${chargeId}`);
        case 'charge-declined':
          throw problemException(409, 'charge not refundable', 'a declined charge cannot be refunded');
        case 'exceeds-captured':
          throw problemException(
            409,
            'refund exceeds captured amount',
            `at most ${decision.refundableCents} cents of this charge can still be refunded`,
          );
        case 'refund': {
          const refundId = `re_${randomUUID()}`;
          await tx.query('insert into refunds (refund_id, charge_id, amount_cents) values ($1, $2, $3)', [
            refundId,
            chargeId,
            request.amountCents,
          ]);
          await tx.query('update charges set refunded_cents = $2 where charge_id = $1', [
            chargeId,
            decision.refundedCentsAfter,
          ]);
          return { refundId, chargeId, amountCents: request.amountCents };
        }
        default: {
          const unexpected: never = decision;
          throw new Error(`unexpected refund decision ${JSON.stringify(unexpected)}`);
        }
      }
    });
  }
}

function toCharge(row: ChargeRow): RefundableCharge {
  return { status: row.status, amountCents: Number(row.amount_cents), refundedCents: Number(row.refunded_cents) };
}
