import type pg from 'pg';

export interface OrderView {
  readonly orderId: string;
  readonly status: string;
  readonly items: ReadonlyArray<{ sku: string; quantity: number; priceCents: number }>;
  readonly totalCents: number;
  readonly currency: string;
  readonly reason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  status: string;
  reason: string | null;
  items: OrderView['items'];
  total_cents: number;
  currency: string;
  created_at: Date;
  updated_at: Date;
}

const toView = (row: OrderRow): OrderView => ({
  orderId: row.order_id,
  status: row.status,
  items: row.items,
  totalCents: row.total_cents,
  currency: row.currency,
  ...(row.reason ? { reason: row.reason } : {}),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** One order of one user (someone else's order is simply not found). */
export async function findOrder(
  db: pg.Pool | pg.PoolClient,
  userId: string,
  orderId: string,
): Promise<OrderView | undefined> {
  const result = await db.query<OrderRow>('select * from orders where order_id = $1 and user_id = $2', [
    orderId,
    userId,
  ]);
  const row = result.rows[0];
  return row ? toView(row) : undefined;
}

export interface Cursor {
  readonly createdAt: string;
  readonly orderId: string;
}

export const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

/** Undefined when the cursor is not one we issued. */
export function decodeCursor(value: string): Cursor | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof parsed.createdAt !== 'string' || Number.isNaN(Date.parse(parsed.createdAt))) return undefined;
    if (typeof parsed.orderId !== 'string' || !/^[0-9a-f-]{36}$/.test(parsed.orderId)) return undefined;
    return { createdAt: parsed.createdAt, orderId: parsed.orderId };
  } catch {
    return undefined;
  }
}

/** A user's orders, newest first (ties by order id), one page after `cursor`. */
export async function listOrders(
  db: pg.Pool,
  userId: string,
  limit: number,
  cursor: Cursor | undefined,
): Promise<{ items: OrderView[]; nextCursor?: string }> {
  const result = await db.query<OrderRow>(
    `select * from orders
      where user_id = $1 and ($2::timestamptz is null or (created_at, order_id) < ($2::timestamptz, $3::uuid))
      order by created_at desc, order_id desc
      limit $4`,
    [userId, cursor?.createdAt ?? null, cursor?.orderId ?? null, limit + 1],
  );
  const items = result.rows.slice(0, limit).map(toView);
  const last = items.at(-1);
  return result.rows.length > limit && last
    ? { items, nextCursor: encodeCursor({ createdAt: last.createdAt, orderId: last.orderId }) }
    : { items };
}
