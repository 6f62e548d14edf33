import { ConflictException, BadRequestException } from '@nestjs/common';
import type pg from 'pg';
import { problem } from '@shop/health';
import { type AppendCondition, BoundedMap, UNCHECKED } from '@shop/event-store';
import { isRemoved } from '@shop/resilience';
import type { OrderItem } from '../order/order.events';
import type { OrderStore } from '../order/order.store';
import { recordSagaOutcome } from '../order/saga.metrics';
import { bodyHash, newOrderId, type PlaceOrderBody } from './place-order.dto';

export interface PlaceOrderResult {
  readonly orderId: string;
  readonly status: string;
  /** false for a replay of the same key and body. */
  readonly created: boolean;
}

/** An order's lines at the catalog's prices. */
interface Priced {
  readonly items: OrderItem[];
  readonly currency: string;
}

interface Price {
  readonly priceCents: number;
  readonly currency: string;
}

/** How many SKUs' prices the handler keeps (the least recently read go first). */
const PRICES_KEPT = 10_000;

/**
 * Accepts an order: prices it against order-service's own catalog, then, in
 * one statement (ADR 0009), stores the user's idempotency key with the body's
 * hash, the order's first event, the orders row, the saga deadline and the
 * saga's first command. A key claimed before writes nothing and the request
 * is answered from the first one's order (a different body: 409); duplicates
 * sent at the same time wait on the key's row and then find the first one's
 * order: one order, whatever the retries.
 *
 * The prices come from the catalog rows as last read here, with no read per
 * order: the statement requires that they are still the catalog's (a price
 * changed by a ProductPriceChanged that this process, or another instance,
 * handled since). If that does not hold, or the one statement cannot settle
 * the order for another reason (the new stream exists after all), the prices
 * are read again and the same writes go in a transaction that claims the key
 * first and decides on the stream.
 */
export class PlaceOrderHandler {
  /** The catalog's prices as last read (a SKU the catalog did not have is not kept). */
  private readonly prices = new BoundedMap<string, Price>(PRICES_KEPT);

  constructor(
    private readonly pool: pg.Pool,
    private readonly orders: OrderStore,
    private readonly sagaTimeoutMs: number,
  ) {}

  async place(userId: string, key: string, body: PlaceOrderBody, raw: unknown): Promise<PlaceOrderResult> {
    const hash = bodyHash(raw);
    const orderId = newOrderId();
    // UNSAFE_REMOVE_PATTERNS=idempotency-key: every request claims a key of its own (the proof of the key).
    const claim = isRemoved('idempotency-key') ? `${key}#${orderId}` : key;
    const priced = await this.priceOrReplay(userId, key, hash, body, false);
    if (!('items' in priced)) return priced;
    const placeOrder = ({ items, currency }: Priced) => ({
      kind: 'PlaceOrder' as const,
      orderId,
      userId,
      items,
      currency,
      paymentToken: body.paymentToken,
      now: new Date().toISOString(),
      timeoutMs: this.sagaTimeoutMs,
    });
    const meta = { correlationId: orderId, causationId: `idempotency-key:${key}` };
    const placed = await this.orders.placeAtOnce(
      orderId,
      placeOrder(priced),
      meta,
      {
        claim: `insert into idempotency_keys (user_id, key, body_hash, order_id)
              select $1::text, $2::text, $3::text, $4::uuid from checked
              on conflict (user_id, key) do nothing returning 1`,
        values: [userId, claim, hash, orderId],
      },
      pricedAsCatalog(priced),
    );
    if (placed === 'duplicate') return this.replay(userId, key, hash);
    if (placed !== UNCHECKED) return { orderId, status: 'PENDING', created: true };

    // The prices may have changed: read them again, as the transaction below decides on them.
    const repriced = await this.priceOrReplay(userId, key, hash, body, true);
    if (!('items' in repriced)) return repriced;
    const command = placeOrder(repriced);

    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const claimed = await client.query(
        `insert into idempotency_keys (user_id, key, body_hash, order_id) values ($1, $2, $3, $4)
         on conflict (user_id, key) do nothing`,
        [userId, claim, hash, orderId],
      );
      if (claimed.rowCount === 0) {
        await client.query('rollback');
        return this.replay(userId, key, hash);
      }
      const decided = await this.orders.execute(orderId, command, meta, { client });
      await client.query('commit');
      if (decided !== 'duplicate') recordSagaOutcome(decided.before, decided.after);
      return { orderId, status: 'PENDING', created: true };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The order priced (see price), or, for a body the catalog cannot price,
   * the answer to a key used before: its first request's (409 for another
   * body), whatever this body names.
   */
  private async priceOrReplay(
    userId: string,
    key: string,
    hash: string,
    body: PlaceOrderBody,
    fresh: boolean,
  ): Promise<Priced | PlaceOrderResult> {
    try {
      return await this.price(body, fresh);
    } catch (error) {
      if (error instanceof BadRequestException && (await this.keyTaken(userId, key))) {
        return this.replay(userId, key, hash);
      }
      throw error;
    }
  }

  /**
   * The order's lines at the catalog's prices, as last read here (`fresh`:
   * read now); a SKU not read before is read now. 400 for a SKU the catalog
   * does not have.
   */
  private async price(body: PlaceOrderBody, fresh: boolean): Promise<Priced> {
    const skus = [...new Set(body.items.map((item) => item.sku))];
    const toRead = fresh ? skus : skus.filter((sku) => !this.prices.has(sku));
    if (toRead.length > 0) {
      const { rows } = await this.pool.query<{ sku: string; price_cents: number; currency: string }>({
        name: 'catalog-prices',
        text: 'select sku, price_cents, currency from catalog where sku = any($1)',
        values: [toRead],
      });
      for (const sku of toRead) this.prices.delete(sku);
      // Past PRICES_KEPT the entries read longest ago go first.
      for (const row of rows) this.prices.set(row.sku, { priceCents: row.price_cents, currency: row.currency });
    }
    const bySku = new Map(skus.flatMap((sku) => (this.prices.has(sku) ? [[sku, this.prices.get(sku) as Price]] : [])));
    const unknown = body.items.filter((item) => !bySku.has(item.sku));
    if (unknown.length > 0) {
      throw new BadRequestException({
        ...problem(400, 'invalid request', 'the order names products the catalog does not have'),
        errors: unknown.map((item) => ({
          path: `items.${body.items.indexOf(item)}.sku`,
          message: `unknown SKU ${item.sku}`,
        })),
      });
    }
    const items = body.items.map(({ sku, quantity }) => ({
      sku,
      quantity,
      priceCents: bySku.get(sku)?.priceCents ?? 0,
    }));
    return { items, currency: bySku.values().next().value?.currency ?? 'EUR' };
  }

  private async keyTaken(userId: string, key: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('select 1 from idempotency_keys where user_id = $1 and key = $2', [
      userId,
      key,
    ]);
    return rowCount === 1;
  }

  private async replay(userId: string, key: string, hash: string): Promise<PlaceOrderResult> {
    const result = await this.pool.query<{ body_hash: string; order_id: string; status: string }>(
      `select k.body_hash, k.order_id, o.status
         from idempotency_keys k join orders o on o.order_id = k.order_id
        where k.user_id = $1 and k.key = $2`,
      [userId, key],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`idempotency key ${key} claimed but not found`);
    if (row.body_hash !== hash) {
      throw new ConflictException(
        problem(409, 'idempotency key reused', 'this Idempotency-Key was used with another body'),
      );
    }
    return { orderId: row.order_id, status: row.status, created: false };
  }
}

/** What the append requires of an order priced from the prices kept: every line's price is still the catalog's. */
function pricedAsCatalog({ items, currency }: Priced): AppendCondition {
  const lines = [...new Map(items.map((item) => [item.sku, item.priceCents]))];
  return {
    sql: `(select count(*) from catalog c
              join unnest($1::text[], $2::int[]) as p(sku, price_cents)
                on c.sku = p.sku and c.price_cents = p.price_cents and c.currency = $3::text) = cardinality($1::text[])`,
    values: [lines.map(([sku]) => sku), lines.map(([, priceCents]) => priceCents), currency],
  };
}
