import type { Migration } from '@shop/event-store';

/**
 * The provider's own database: a plain ledger (it stands for a third party,
 * not for one of our event-sourced services), applied at start with
 * `migrate(pool, PROVIDER_MIGRATIONS)`. Numbered from 100, like every
 * service's own migrations; a released migration is never edited.
 */
export const PROVIDER_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'charges and refunds',
    sql: `
      create table charges (
        charge_id      text        primary key,
        reference      text        not null,
        amount_cents   bigint      not null check (amount_cents > 0),
        currency       text        not null check (currency ~ '^[A-Z]{3}$'),
        status         text        not null check (status in ('captured', 'declined')),
        decline_code   text,
        -- The sum of this charge's refunds, kept in the same transaction as each refund:
        -- the database itself refuses an over-refund or a refund of a declined charge.
        refunded_cents bigint      not null default 0,
        created_at     timestamptz not null default now(),
        check ((status = 'declined') = (decline_code is not null)),
        check (refunded_cents >= 0 and refunded_cents <= amount_cents),
        check (status = 'captured' or refunded_cents = 0)
      );
      create index charges_reference on charges (reference, created_at, charge_id);

      create table refunds (
        refund_id    text        primary key,
        charge_id    text        not null references charges (charge_id),
        amount_cents bigint      not null check (amount_cents > 0),
        created_at   timestamptz not null default now()
      );
      create index refunds_charge on refunds (charge_id);
    `,
  },
  {
    version: 101,
    name: 'idempotency keys',
    sql: `
      -- One row per (operation, key): the request's hash and the 201 body that
      -- was sent, committed together with the charge or refund it describes.
      create table idempotency_keys (
        scope         text        not null check (scope in ('charge', 'refund')),
        key           text        not null,
        request_hash  text        not null,
        response_body jsonb,
        created_at    timestamptz not null default now(),
        primary key (scope, key)
      );
    `,
  },
];
