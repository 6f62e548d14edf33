import type pg from 'pg';
import type { Projection, RecordedEvent } from '@shop/event-store';
import type { StockEvent } from './stock.events';

/**
 * The `products` read model (GET /products): one row per SKU with what can be
 * reserved now. Written in the same transaction as the stock events (so a
 * reader sees its own writes), and rebuilt from the events by replaying them
 * through the same function.
 */
export const PRODUCTS_MIGRATIONS = [
  {
    version: 100,
    name: 'products read model',
    sql: `
      create table products (
        sku         text primary key,
        name        text    not null,
        price_cents integer not null,
        currency    text    not null,
        available   integer not null check (available >= 0),
        updated_at  timestamptz not null default now()
      );
      -- What each order holds per SKU, so ReleaseStock and CommitStock (which name only the order) find it.
      create table reservations (
        order_id text    not null,
        sku      text    not null,
        quantity integer not null,
        state    text    not null check (state in ('reserved', 'committed', 'released', 'returned')),
        primary key (order_id, sku)
      );
    `,
  },
] as const;

export const skuOfStream = (streamId: string): string => streamId.replace(/^sku-/, '');
export const streamOfSku = (sku: string): string => `sku-${sku}`;

async function changeAvailable(client: pg.PoolClient, sku: string, by: number): Promise<void> {
  await client.query({
    name: 'products-change-available',
    text: 'update products set available = available + $2, updated_at = now() where sku = $1',
    values: [sku, by],
  });
}

/** What a reservation event does to both tables, in one statement (a data-modifying CTE runs once, used or not). */
async function reserve(client: pg.PoolClient, sku: string, orderId: string, quantity: number): Promise<void> {
  await client.query({
    name: 'products-reserve',
    text: `with changed as (update products set available = available - $3, updated_at = now() where sku = $1 returning 1)
      insert into reservations (order_id, sku, quantity, state) values ($2, $1, $3, 'reserved')
      on conflict (order_id, sku) do update set quantity = excluded.quantity, state = 'reserved'`,
    values: [sku, orderId, quantity],
  });
}

/** Units back to `available` and the reservation's new state, in one statement. */
async function giveBack(
  client: pg.PoolClient,
  sku: string,
  orderId: string,
  quantity: number,
  state: 'released' | 'returned',
): Promise<void> {
  await client.query({
    name: 'products-give-back',
    text: `with changed as (update products set available = available + $3, updated_at = now() where sku = $1 returning 1)
      update reservations set state = $4 where order_id = $2 and sku = $1`,
    values: [sku, orderId, quantity, state],
  });
}

async function setReservationState(client: pg.PoolClient, orderId: string, sku: string, state: string): Promise<void> {
  await client.query({
    name: 'reservations-set-state',
    text: 'update reservations set state = $3 where order_id = $1 and sku = $2',
    values: [orderId, sku, state],
  });
}

export async function applyToProducts(client: pg.PoolClient, sku: string, event: StockEvent): Promise<void> {
  switch (event.type) {
    case 'ProductAdded':
      await client.query(
        'insert into products (sku, name, price_cents, currency, available) values ($1, $2, $3, $4, 0)',
        [sku, event.data.name, event.data.priceCents, event.data.currency],
      );
      return;
    case 'StockReceived':
      await changeAvailable(client, sku, event.data.quantity);
      return;
    case 'StockReserved':
      await reserve(client, sku, event.data.orderId, event.data.quantity);
      return;
    case 'ReservationReleased':
      await giveBack(client, sku, event.data.orderId, event.data.quantity, 'released');
      return;
    case 'ReservationCommitted':
      await setReservationState(client, event.data.orderId, sku, 'committed');
      return;
    case 'StockReturned':
      await giveBack(client, sku, event.data.orderId, event.data.quantity, 'returned');
      return;
    default: {
      const unknown: never = event;
      throw new Error(`unknown stock event ${JSON.stringify(unknown)}`);
    }
  }
}

export const productsProjection: Projection = {
  name: 'products',
  apply: (client: pg.PoolClient, event: RecordedEvent) =>
    applyToProducts(client, skuOfStream(event.streamId), { type: event.type, data: event.data } as StockEvent),
  reset: async (client: pg.PoolClient) => {
    await client.query('truncate products, reservations');
  },
};
