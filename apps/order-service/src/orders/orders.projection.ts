import type pg from 'pg';
import type { AlongsideWrite, Projection, RecordedEvent } from '@shop/event-store';
import { orderDecider, type OrderState } from '../order/order.decider';
import type { OrderEvent } from '../order/order.events';

const ORDER_COLUMNS = 'order_id, user_id, status, reason, items, total_cents, currency, created_at, updated_at';
const ORDER_VALUES =
  '$1::uuid, $2::text, $3::text, $4::text, $5::jsonb, $6::int, $7::text, $8::timestamptz, $9::timestamptz';
const ORDER_UPSERT = `on conflict (order_id) do update
  set status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at`;

/** The row as a statement of its own, and as a write beside the append that changed the order (built once). */
const ORDER_ROW_SQL = `insert into orders (${ORDER_COLUMNS}) values (${ORDER_VALUES}) ${ORDER_UPSERT}`;
const ORDER_ROW_ALONGSIDE_SQL = `insert into orders (${ORDER_COLUMNS}) select ${ORDER_VALUES} from appended ${ORDER_UPSERT}`;

/**
 * The `orders` read model (GET /orders, GET /orders/:id): one row per order,
 * a function of the order's state alone. OrderStore writes it in the
 * statement that appends the order's events (orderRowAlongside, so a client
 * reads its own order at once), and `rebuild(pool, store, ordersProjection)`
 * replays the events through writeOrderRow: the same columns, values and
 * upsert, so live and rebuilt rows cannot drift apart.
 * Its timestamps come from the events (placedAt, at), never from the clock of
 * the writer.
 */
export async function writeOrderRow(client: pg.PoolClient, state: OrderState): Promise<void> {
  await client.query({
    name: 'orders-write-row',
    text: ORDER_ROW_SQL,
    values: orderRowValues(state),
  });
}

/** The same row, written by the append that changed the order, in its statement (EventStore AlongsideWrite). */
export function orderRowAlongside(state: OrderState): AlongsideWrite {
  return {
    sql: ORDER_ROW_ALONGSIDE_SQL,
    values: orderRowValues(state),
  };
}

function orderRowValues(state: OrderState): unknown[] {
  return [
    state.orderId,
    state.userId,
    state.status,
    state.reason ?? null,
    JSON.stringify(state.items),
    state.totalCents,
    state.currency,
    state.createdAt,
    state.updatedAt,
  ];
}

/** The order as of `event`: its stream folded up to and including that event. */
async function stateAt(client: pg.PoolClient, event: RecordedEvent): Promise<OrderState> {
  const stream = await client.query<{ type: OrderEvent['type']; data: unknown }>(
    'select type, data from events where stream_id = $1 and stream_version <= $2 order by stream_version',
    [event.streamId, event.streamVersion],
  );
  return stream.rows.reduce<OrderState>(
    (state, row) => orderDecider.evolve(state, { type: row.type, data: row.data } as OrderEvent),
    orderDecider.initialState(),
  );
}

/**
 * Only `orders` is this projection's: saga_deadlines and idempotency_keys are
 * working state of the write side, and `catalog` is fed by inventory's
 * events (it is refilled by replaying inventory.events, not from this store).
 */
export const ordersProjection: Projection = {
  name: 'orders',
  apply: async (client: pg.PoolClient, event: RecordedEvent) => writeOrderRow(client, await stateAt(client, event)),
  reset: async (client: pg.PoolClient) => {
    await client.query('truncate orders');
  },
};
