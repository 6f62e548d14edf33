import pg from 'pg';

/**
 * The five business invariants of docs/contract.md, checked by reading each
 * service's database and the card processor's ledger directly (read-only).
 * Used by the end-to-end tests after every scenario, and by the chaos runs.
 */
export interface AuditTarget {
  /** A connection that may read every service database of the stack (a superuser, or a read-only auditor role). */
  readonly adminUrl: string;
  readonly stackId: string;
  /** Orders older than this and still PENDING break invariant 1 (saga timeout plus a relay interval). */
  readonly pendingGraceMs: number;
}

export interface AuditReport {
  readonly violations: string[];
  readonly counts: {
    readonly orders: Record<string, number>;
    readonly skus: number;
    readonly streamsChecked: number;
    readonly pendingOutbox: number;
  };
}

function database(target: AuditTarget, service: string): string {
  const url = new URL(target.adminUrl);
  url.pathname = `/${target.stackId}_${service}`;
  return url.toString();
}

async function withDb<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('set default_transaction_read_only = on');
    return await work(client);
  } finally {
    await client.end();
  }
}

interface OrderRow {
  order_id: string;
  status: string;
  total_cents: number;
  items: Array<{ sku: string; quantity: number }>;
  created_at: Date;
}

export async function audit(target: AuditTarget, options: { orderIds?: readonly string[] } = {}): Promise<AuditReport> {
  const violations: string[] = [];
  const only = options.orderIds ? [...options.orderIds] : null;

  const orders = await withDb(database(target, 'order'), async (db) => {
    const result = await db.query<OrderRow>(
      'select order_id, status, total_cents, items, created_at from orders where $1::uuid[] is null or order_id = any($1)',
      [only],
    );
    return result.rows;
  });
  if (only) {
    const found = new Set(orders.map((order) => order.order_id));
    for (const id of only)
      if (!found.has(id)) violations.push(`invariant 1: order ${id} was accepted but does not exist`);
  }

  // 1. Every accepted order is terminal (or still within its saga timeout).
  const counts: Record<string, number> = {};
  for (const order of orders) {
    counts[order.status] = (counts[order.status] ?? 0) + 1;
    if (order.status === 'PENDING' && Date.now() - order.created_at.getTime() > target.pendingGraceMs) {
      violations.push(`invariant 1: order ${order.order_id} is PENDING past the saga timeout`);
    }
  }

  // 2. Stock: received = available + held; never negative; confirmed orders hold exactly their lines.
  const stock = await withDb(database(target, 'inventory'), async (db) => {
    const received = await db.query<{ sku: string; received: string }>(
      `select stream_id as sku, sum((data->>'quantity')::int)::text as received
         from events where type = 'StockReceived' group by stream_id`,
    );
    const products = await db.query<{ sku: string; available: number }>('select sku, available from products');
    const held = await db.query<{ order_id: string; sku: string; quantity: number; state: string }>(
      'select order_id, sku, quantity, state from reservations',
    );
    return { received: received.rows, products: products.rows, held: held.rows };
  });
  const available = new Map(stock.products.map((row) => [row.sku, row.available]));
  const heldBySku = new Map<string, number>();
  for (const row of stock.held) {
    if (row.state === 'reserved' || row.state === 'committed') {
      heldBySku.set(row.sku, (heldBySku.get(row.sku) ?? 0) + row.quantity);
    }
  }
  for (const { sku: stream, received } of stock.received) {
    const sku = stream.replace(/^sku-/, '');
    const free = available.get(sku) ?? 0;
    if (free < 0) violations.push(`invariant 2: ${sku} has negative available stock ${free}`);
    const total = free + (heldBySku.get(sku) ?? 0);
    if (total !== Number(received)) {
      violations.push(`invariant 2: ${sku} received ${received} but available + held = ${total}`);
    }
  }
  const heldByOrder = new Map<string, typeof stock.held>();
  for (const row of stock.held) heldByOrder.set(row.order_id, [...(heldByOrder.get(row.order_id) ?? []), row]);
  for (const order of orders) {
    const rows = heldByOrder.get(order.order_id) ?? [];
    const holding = rows.filter((row) => row.state === 'reserved' || row.state === 'committed');
    if (order.status === 'CONFIRMED') {
      const expected = order.items.map((item) => `${item.sku}:${item.quantity}`).sort();
      const actual = holding.map((row) => `${row.sku}:${row.quantity}`).sort();
      if (expected.join() !== actual.join()) {
        violations.push(
          `invariant 2: CONFIRMED order ${order.order_id} holds ${actual.join(',') || 'nothing'}, expected ${expected.join(',')}`,
        );
      }
    } else if ((order.status === 'REJECTED' || order.status === 'CANCELLED') && holding.length > 0) {
      violations.push(`invariant 2: ${order.status} order ${order.order_id} still holds stock`);
    }
  }

  // 3. Money at the card processor: one capture of the total per CONFIRMED order, net zero otherwise.
  const charges = await withDb(database(target, 'payment_provider'), async (db) => {
    const result = await db.query<{ reference: string; status: string; amount_cents: string; refunded_cents: string }>(
      `select reference, status, amount_cents::text, refunded_cents::text from charges where $1::text[] is null or reference = any($1)`,
      [only],
    );
    return result.rows;
  });
  const byOrder = new Map<string, typeof charges>();
  for (const charge of charges) byOrder.set(charge.reference, [...(byOrder.get(charge.reference) ?? []), charge]);
  for (const order of orders) {
    const captured = (byOrder.get(order.order_id) ?? []).filter((charge) => charge.status === 'captured');
    const net = captured.reduce((sum, charge) => sum + Number(charge.amount_cents) - Number(charge.refunded_cents), 0);
    if (order.status === 'CONFIRMED') {
      if (
        captured.length !== 1 ||
        Number(captured[0]?.amount_cents) !== order.total_cents ||
        net !== order.total_cents
      ) {
        violations.push(
          `invariant 3: CONFIRMED order ${order.order_id} has ${captured.length} captures netting ${net}, expected one of ${order.total_cents}`,
        );
      }
    } else if ((order.status === 'REJECTED' || order.status === 'CANCELLED') && net !== 0) {
      violations.push(
        `invariant 3: ${order.status} order ${order.order_id} has ${net} cents captured and not refunded`,
      );
    }
  }

  // 4. Streams are gap-free in every event store, and every outbox row has been published.
  let streamsChecked = 0;
  let pendingOutbox = 0;
  for (const service of ['order', 'inventory', 'payment', 'user']) {
    await withDb(database(target, service), async (db) => {
      const gaps = await db.query<{ stream_id: string }>(
        'select stream_id from events group by stream_id having max(stream_version) <> count(*) or min(stream_version) <> 1',
      );
      for (const { stream_id } of gaps.rows)
        violations.push(`invariant 4: ${service} stream ${stream_id} has a version gap`);
      const streams = await db.query<{ n: number }>('select count(distinct stream_id)::int as n from events');
      streamsChecked += streams.rows[0]?.n ?? 0;
      const outbox = await db.query<{ n: number }>(
        "select count(*)::int as n from information_schema.tables where table_name = 'outbox'",
      );
      if ((outbox.rows[0]?.n ?? 0) > 0) {
        const pending = await db.query<{ n: number }>("select count(*)::int as n from outbox where status = 'pending'");
        pendingOutbox += pending.rows[0]?.n ?? 0;
      }
    });
  }

  return { violations, counts: { orders: counts, skus: stock.received.length, streamsChecked, pendingOutbox } };
}
