import type pg from 'pg';
import { type AlongsideWrite, type Projection, type RecordedEvent, standaloneWrites } from '@shop/event-store';
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

/**
 * What a run of stock events (one decision's, or one event in a rebuild) does
 * to the read model, folded so that every row is written once: new products,
 * the net change of `available` per existing SKU, and each reservation's last
 * state. One statement writes it all; a row updated twice in one statement
 * would keep only one of the updates.
 */
export interface ProductsChange {
  readonly added: ReadonlyMap<string, { name: string; priceCents: number; currency: string; available: number }>;
  readonly deltas: ReadonlyMap<string, number>;
  readonly reservations: ReadonlyMap<string, { orderId: string; sku: string; quantity: number; state: string }>;
}

export function foldProductsChange(events: ReadonlyArray<{ sku: string; event: StockEvent }>): ProductsChange {
  const added = new Map<string, { name: string; priceCents: number; currency: string; available: number }>();
  const deltas = new Map<string, number>();
  const reservations = new Map<string, { orderId: string; sku: string; quantity: number; state: string }>();
  const change = (sku: string, by: number) => {
    const fresh = added.get(sku);
    if (fresh) fresh.available += by;
    else deltas.set(sku, (deltas.get(sku) ?? 0) + by);
  };
  const hold = (sku: string, orderId: string, quantity: number, state: string) =>
    reservations.set(`${orderId}|${sku}`, { orderId, sku, quantity, state });
  for (const { sku, event } of events) {
    switch (event.type) {
      case 'ProductAdded':
        added.set(sku, {
          name: event.data.name,
          priceCents: event.data.priceCents,
          currency: event.data.currency,
          available: 0,
        });
        break;
      case 'StockReceived':
        change(sku, event.data.quantity);
        break;
      case 'StockReserved':
        change(sku, -event.data.quantity);
        hold(sku, event.data.orderId, event.data.quantity, 'reserved');
        break;
      case 'ReservationReleased':
        change(sku, event.data.quantity);
        hold(sku, event.data.orderId, event.data.quantity, 'released');
        break;
      case 'ReservationCommitted':
        hold(sku, event.data.orderId, event.data.quantity, 'committed');
        break;
      case 'StockReturned':
        change(sku, event.data.quantity);
        hold(sku, event.data.orderId, event.data.quantity, 'returned');
        break;
      default: {
        const unknown: never = event;
        throw new Error(`unknown stock event ${JSON.stringify(unknown)}`);
      }
    }
  }
  return { added, deltas, reservations };
}

/**
 * The change as writes beside an append (EventStore AlongsideWrite: each
 * runs only if the append did). A reservation keeps the quantity it was made
 * with; later states change only its state.
 */
export function productsWrites({ added, deltas, reservations }: ProductsChange): AlongsideWrite[] {
  const writes: AlongsideWrite[] = [];
  if (added.size > 0) {
    const rows = [...added];
    writes.push({
      sql: `insert into products (sku, name, price_cents, currency, available)
        select * from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[])
         where exists (select 1 from appended)`,
      values: [
        rows.map(([sku]) => sku),
        rows.map(([, row]) => row.name),
        rows.map(([, row]) => row.priceCents),
        rows.map(([, row]) => row.currency),
        rows.map(([, row]) => row.available),
      ],
    });
  }
  const changed = [...deltas].filter(([, by]) => by !== 0);
  if (changed.length > 0) {
    writes.push({
      sql: `update products p set available = p.available + d.by, updated_at = now()
          from unnest($1::text[], $2::int[]) as d(sku, by)
         where p.sku = d.sku and exists (select 1 from appended)`,
      values: [changed.map(([sku]) => sku), changed.map(([, by]) => by)],
    });
  }
  if (reservations.size > 0) {
    const rows = [...reservations.values()];
    writes.push({
      sql: `insert into reservations (order_id, sku, quantity, state)
        select * from unnest($1::text[], $2::text[], $3::int[], $4::text[]) where exists (select 1 from appended)
        on conflict (order_id, sku) do update set state = excluded.state,
          quantity = case when excluded.state = 'reserved' then excluded.quantity else reservations.quantity end`,
      values: [
        rows.map((row) => row.orderId),
        rows.map((row) => row.sku),
        rows.map((row) => row.quantity),
        rows.map((row) => row.state),
      ],
    });
  }
  return writes;
}

/** The same writes as a statement of their own (a rebuild replays events one at a time through this). */
export async function applyToProducts(client: pg.PoolClient, sku: string, event: StockEvent): Promise<void> {
  const writes = productsWrites(foldProductsChange([{ sku, event }]));
  if (writes.length === 0) return;
  const { text, values } = standaloneWrites(writes);
  await client.query(text, values);
}

export const productsProjection: Projection = {
  name: 'products',
  apply: (client: pg.PoolClient, event: RecordedEvent) =>
    applyToProducts(client, skuOfStream(event.streamId), { type: event.type, data: event.data } as StockEvent),
  reset: async (client: pg.PoolClient) => {
    await client.query('truncate products, reservations');
  },
};
