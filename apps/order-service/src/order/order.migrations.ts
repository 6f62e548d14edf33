import type { Migration } from '@shop/event-store';

/** order-service's own tables beside the event store (numbered from 100). */
export const ORDER_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'orders read model, idempotency keys, saga deadlines, catalog',
    sql: `
      -- GET /orders and GET /orders/:id, written in the same transaction as the order's events.
      create table orders (
        order_id    uuid        primary key,
        user_id     text        not null,
        status      text        not null,
        reason      text,
        items       jsonb       not null,
        total_cents integer     not null,
        currency    text        not null,
        created_at  timestamptz not null,
        updated_at  timestamptz not null
      );
      create index orders_by_user on orders (user_id, created_at desc, order_id desc);

      -- Idempotency-Key per user, kept at least 24 hours (pruned after 48).
      create table idempotency_keys (
        user_id    text        not null,
        key        text        not null,
        body_hash  text        not null,
        order_id   uuid        not null,
        created_at timestamptz not null default now(),
        primary key (user_id, key)
      );

      -- Durable saga timeouts: a row per order still PENDING, found by the timeout poller.
      create table saga_deadlines (
        order_id uuid        primary key,
        deadline timestamptz not null
      );
      create index saga_deadlines_due on saga_deadlines (deadline);

      -- order-service's own copy of the catalog, from inventory's events: orders are priced
      -- and checked against it, so they are accepted while inventory-service is down.
      create table catalog (
        sku         text    primary key,
        name        text    not null,
        price_cents integer not null,
        currency    text    not null,
        available   integer not null,
        updated_at  timestamptz not null default now()
      );
    `,
  },
  {
    version: 101,
    name: 'the catalog copy keeps what orders are priced with, not stock levels',
    sql: `
      -- Stock is inventory's to enforce (a reservation fails when it is short); nothing here read
      -- this column, and following StockLevelChanged cost a transaction per SKU per reservation.
      alter table catalog drop column available;
    `,
  },
];
