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

export interface SkuCounts {
  /** Units received (StockReceived events). */
  readonly received: number;
  /** `products.available`. */
  readonly available: number;
  /** Units in reservations that are `reserved` (PENDING orders) or `committed` (CONFIRMED orders). */
  readonly held: number;
}

export interface AuditReport {
  readonly violations: string[];
  readonly counts: {
    readonly orders: Record<string, number>;
    readonly skus: number;
    readonly stock: Record<string, SkuCounts>;
    /** Captured at the card processor for the audited orders, refunds not deducted. */
    readonly capturedCents: number;
    /** Refunded at the card processor for the audited orders. */
    readonly refundedCents: number;
    readonly streamsChecked: number;
    readonly pendingOutbox: number;
  };
}

function database(target: AuditTarget, service: string): string {
  const url = new URL(target.adminUrl);
  url.pathname = `/${target.stackId}_${service}`;
  return url.toString();
}

/** One read-only snapshot per database: the reads of one service see the same commits, even while it is writing. */
async function withDb<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const result = await work(client);
    await client.query('commit');
    return result;
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

interface StockEventRow {
  stream_id: string;
  stream_version: number;
  type: string;
  data: { orderId?: string; quantity?: number };
}

interface ReservationRow {
  order_id: string;
  sku: string;
  quantity: number;
  state: string;
}

const HOLDING = new Set(['reserved', 'committed']);

/**
 * One SKU's stream folded the way inventory's products projection folds it:
 * what `products` and `reservations` must hold, and the lowest `available`
 * reached on the way (invariant 2 says never negative, at any instant).
 * Inventory's decider reserves, commits, releases and returns an order's
 * units at most once per SKU, so an order event seen twice is a command
 * applied twice (`repeated`).
 */
function replayStock(events: readonly StockEventRow[]): {
  received: number;
  available: number;
  lowest: { available: number; version: number } | null;
  reservations: Map<string, { quantity: number; state: string }>;
  repeated: Array<{ type: string; orderId: string; version: number }>;
} {
  let received = 0;
  let available = 0;
  let lowest: { available: number; version: number } | null = null;
  const reservations = new Map<string, { quantity: number; state: string }>();
  const seen = new Set<string>();
  const repeated: Array<{ type: string; orderId: string; version: number }> = [];
  for (const event of events) {
    const quantity = event.data.quantity ?? 0;
    const orderId = event.data.orderId ?? '';
    if (event.data.orderId !== undefined) {
      const key = `${event.type} ${orderId}`;
      if (seen.has(key)) repeated.push({ type: event.type, orderId, version: event.stream_version });
      seen.add(key);
    }
    switch (event.type) {
      case 'StockReceived':
        received += quantity;
        available += quantity;
        break;
      case 'StockReserved':
        available -= quantity;
        reservations.set(orderId, { quantity, state: 'reserved' });
        break;
      case 'ReservationReleased':
        available += quantity;
        reservations.set(orderId, { quantity: reservations.get(orderId)?.quantity ?? quantity, state: 'released' });
        break;
      case 'ReservationCommitted':
        reservations.set(orderId, { quantity: reservations.get(orderId)?.quantity ?? quantity, state: 'committed' });
        break;
      case 'StockReturned':
        available += quantity;
        reservations.set(orderId, { quantity: reservations.get(orderId)?.quantity ?? quantity, state: 'returned' });
        break;
      default:
        break;
    }
    if (available < 0 && (lowest === null || available < lowest.available)) {
      lowest = { available, version: event.stream_version };
    }
  }
  return { received, available, lowest, reservations, repeated };
}

export async function audit(target: AuditTarget, options: { orderIds?: readonly string[] } = {}): Promise<AuditReport> {
  const violations: string[] = [];
  const only = options.orderIds ? [...options.orderIds] : null;

  const { orders, knownOrders } = await withDb(database(target, 'order'), async (db) => {
    const result = await db.query<OrderRow>(
      'select order_id, status, total_cents, items, created_at from orders where $1::uuid[] is null or order_id = any($1)',
      [only],
    );
    // Every order id, for charges at the card processor that name no order (audits of the whole stack only).
    const all = only ? [] : (await db.query<{ order_id: string }>('select order_id from orders')).rows;
    return { orders: result.rows, knownOrders: new Set(all.map((row) => row.order_id)) };
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
  //    And invariant 4 for inventory: its events, replayed, give exactly its products and reservations rows.
  const stock = await withDb(database(target, 'inventory'), async (db) => {
    const events = await db.query<StockEventRow>(
      `select stream_id, stream_version, type, data from events where stream_id like 'sku-%'
        order by stream_id, stream_version`,
    );
    const products = await db.query<{ sku: string; available: number }>('select sku, available from products');
    const held = await db.query<ReservationRow>('select order_id, sku, quantity, state from reservations');
    return { events: events.rows, products: products.rows, held: held.rows };
  });
  const available = new Map(stock.products.map((row) => [row.sku, row.available]));
  const eventsBySku = new Map<string, StockEventRow[]>();
  for (const event of stock.events) {
    const sku = event.stream_id.replace(/^sku-/, '');
    eventsBySku.set(sku, [...(eventsBySku.get(sku) ?? []), event]);
  }
  const reservationsBySku = new Map<string, ReservationRow[]>();
  for (const row of stock.held) reservationsBySku.set(row.sku, [...(reservationsBySku.get(row.sku) ?? []), row]);
  const skuCounts: Record<string, SkuCounts> = {};
  const skus = [...new Set([...eventsBySku.keys(), ...available.keys()])].sort();
  for (const sku of skus) {
    const replayed = replayStock(eventsBySku.get(sku) ?? []);
    const rows = reservationsBySku.get(sku) ?? [];
    const free = available.get(sku);
    const held = rows.filter((row) => HOLDING.has(row.state)).reduce((sum, row) => sum + row.quantity, 0);
    skuCounts[sku] = { received: replayed.received, available: free ?? 0, held };

    for (const twice of replayed.repeated) {
      violations.push(
        `invariant 4: inventory stream sku-${sku} holds ${twice.type} for order ${twice.orderId} again at version ${twice.version}`,
      );
    }
    if (free !== undefined && free < 0) violations.push(`invariant 2: ${sku} has negative available stock ${free}`);
    if (replayed.lowest) {
      violations.push(
        `invariant 2: ${sku} went to ${replayed.lowest.available} available at version ${replayed.lowest.version} of its stream`,
      );
    }
    if ((free ?? 0) + held !== replayed.received) {
      violations.push(`invariant 2: ${sku} received ${replayed.received} but available + held = ${(free ?? 0) + held}`);
    }
    if (free !== replayed.available) {
      violations.push(
        `invariant 4: products row of ${sku} says ${free ?? 'nothing'} available, its events give ${replayed.available}`,
      );
    }
    const stored = new Map(rows.map((row) => [row.order_id, `${row.state}:${row.quantity}`]));
    for (const orderId of new Set([...stored.keys(), ...replayed.reservations.keys()])) {
      const expected = replayed.reservations.get(orderId);
      const wanted = expected ? `${expected.state}:${expected.quantity}` : 'nothing';
      const actual = stored.get(orderId) ?? 'nothing';
      if (actual !== wanted) {
        violations.push(
          `invariant 4: reservation of order ${orderId} on ${sku} is ${actual}, its events give ${wanted}`,
        );
      }
    }
  }
  const heldByOrder = new Map<string, ReservationRow[]>();
  for (const row of stock.held) heldByOrder.set(row.order_id, [...(heldByOrder.get(row.order_id) ?? []), row]);
  for (const order of orders) {
    const rows = heldByOrder.get(order.order_id) ?? [];
    const holding = rows.filter((row) => HOLDING.has(row.state));
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

  // 3. Money at the card processor: one capture of the total per CONFIRMED order, net zero otherwise,
  //    and no money kept for an order that does not exist.
  const charges = await withDb(database(target, 'payment_provider'), async (db) => {
    const result = await db.query<{
      charge_id: string;
      reference: string;
      status: string;
      amount_cents: string;
      refunded_cents: string;
    }>(
      `select charge_id, reference, status, amount_cents::text, refunded_cents::text
         from charges where $1::text[] is null or reference = any($1)`,
      [only],
    );
    return result.rows;
  });
  const byOrder = new Map<string, typeof charges>();
  for (const charge of charges) byOrder.set(charge.reference, [...(byOrder.get(charge.reference) ?? []), charge]);
  let capturedCents = 0;
  let refundedCents = 0;
  for (const order of orders) {
    const captured = (byOrder.get(order.order_id) ?? []).filter((charge) => charge.status === 'captured');
    const net = captured.reduce((sum, charge) => sum + Number(charge.amount_cents) - Number(charge.refunded_cents), 0);
    for (const charge of captured) {
      capturedCents += Number(charge.amount_cents);
      refundedCents += Number(charge.refunded_cents);
    }
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
  if (!only) {
    for (const charge of charges) {
      const net = Number(charge.amount_cents) - Number(charge.refunded_cents);
      if (charge.status === 'captured' && net !== 0 && !knownOrders.has(charge.reference)) {
        violations.push(
          `invariant 3: charge ${charge.charge_id} keeps ${net} cents for order ${charge.reference}, which does not exist`,
        );
      }
    }
  }

  // 4. Streams are gap-free in every event store; no message a consumer handled (it is in the inbox) has
  //    its effect twice in one stream: two commits of the same event type caused by that one message.
  //    And every outbox row has been published.
  let streamsChecked = 0;
  let pendingOutbox = 0;
  for (const service of ['order', 'inventory', 'payment', 'user']) {
    await withDb(database(target, service), async (db) => {
      const gaps = await db.query<{ stream_id: string }>(
        `select stream_id from events group by stream_id
          having max(stream_version) <> count(*) or min(stream_version) <> 1 order by stream_id`,
      );
      for (const { stream_id } of gaps.rows)
        violations.push(`invariant 4: ${service} stream ${stream_id} has a version gap`);
      const streams = await db.query<{ n: number }>('select count(distinct stream_id)::int as n from events');
      streamsChecked += streams.rows[0]?.n ?? 0;
      const tables = new Set(
        (
          await db.query<{ table_name: string }>(
            `select table_name from information_schema.tables
              where table_schema = current_schema() and table_name in ('outbox', 'inbox')`,
          )
        ).rows.map((row) => row.table_name),
      );
      if (tables.has('inbox')) {
        const twice = await db.query<{ stream_id: string; type: string; message_id: string; n: number }>(
          `select e.stream_id, e.type, e.metadata->>'causationId' as message_id,
                  count(distinct e.transaction_id)::int as n
             from events e
            where exists (select 1 from inbox i where i.message_id = e.metadata->>'causationId')
            group by e.stream_id, e.type, e.metadata->>'causationId'
           having count(distinct e.transaction_id) > 1
            order by e.stream_id, e.type`,
        );
        for (const row of twice.rows) {
          violations.push(
            `invariant 4: ${service} stream ${row.stream_id} holds ${row.type} from message ${row.message_id} ${row.n} times`,
          );
        }
      }
      if (tables.has('outbox')) {
        const pending = await db.query<{ n: number }>("select count(*)::int as n from outbox where status = 'pending'");
        pendingOutbox += pending.rows[0]?.n ?? 0;
      }
    });
  }

  return {
    violations,
    counts: {
      orders: counts,
      skus: skus.length,
      stock: skuCounts,
      capturedCents,
      refundedCents,
      streamsChecked,
      pendingOutbox,
    },
  };
}
