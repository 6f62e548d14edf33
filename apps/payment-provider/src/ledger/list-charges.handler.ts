import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { LedgerCharge } from './list-charges.dto';
import { LEDGER_POOL } from './ledger.tokens';

interface ChargeRow {
  readonly charge_id: string;
  readonly reference: string;
  readonly amount_cents: string;
  readonly refunded_cents: string;
  readonly currency: string;
  readonly status: 'captured' | 'declined';
  readonly created_at: Date;
}

/** The ledger an auditor reads: every charge for one reference (an order id), oldest first. */
@Injectable()
export class ListChargesHandler {
  constructor(@Inject(LEDGER_POOL) private readonly pool: pg.Pool) {}

  async execute(reference: string): Promise<LedgerCharge[]> {
    const { rows } = await this.pool.query<ChargeRow>(
      `select charge_id, reference, amount_cents, refunded_cents, currency, status, created_at
         from charges where reference = $1 order by created_at, charge_id`,
      [reference],
    );
    return rows.map((row) => ({
      chargeId: row.charge_id,
      reference: row.reference,
      amountCents: Number(row.amount_cents),
      refundedCents: Number(row.refunded_cents),
      currency: row.currency,
      status: row.status,
      createdAt: row.created_at.toISOString(),
    }));
  }
}
