import { ConflictException, BadRequestException } from '@nestjs/common';
import type pg from 'pg';
import { problem } from '@shop/health';
import { UNCHECKED } from '@shop/event-store';
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

/**
 * Accepts an order: prices it against order-service's own catalog, then, in
 * one statement (ADR 0009), stores the user's idempotency key with the body's
 * hash, the order's first event, the orders row, the saga deadline and the
 * saga's first command. A key claimed before writes nothing and the request
 * is answered from the first one's order (a different body: 409); duplicates
 * sent at the same time wait on the key's row and then find the first one's
 * order: one order, whatever the retries. If the one statement cannot settle
 * it (the new stream exists after all), the same writes go in a transaction
 * that claims the key first and decides on the stream.
 */
export class PlaceOrderHandler {
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
    let priced: Priced;
    try {
      priced = await this.price(body);
    } catch (error) {
      // A key used before is answered from its first request (409 for another body), whatever this body names.
      if (error instanceof BadRequestException && (await this.keyTaken(userId, key))) {
        return this.replay(userId, key, hash);
      }
      throw error;
    }
    const { items, currency } = priced;
    const command = {
      kind: 'PlaceOrder' as const,
      orderId,
      userId,
      items,
      currency,
      paymentToken: body.paymentToken,
      now: new Date().toISOString(),
      timeoutMs: this.sagaTimeoutMs,
    };
    const meta = { correlationId: orderId, causationId: `idempotency-key:${key}` };
    const placed = await this.orders.placeAtOnce(orderId, command, meta, {
      claim: `insert into idempotency_keys (user_id, key, body_hash, order_id)
              select $1::text, $2::text, $3::text, $4::uuid from checked
              on conflict (user_id, key) do nothing returning 1`,
      values: [userId, claim, hash, orderId],
    });
    if (placed === 'duplicate') return this.replay(userId, key, hash);
    if (placed !== UNCHECKED) return { orderId, status: 'PENDING', created: true };

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

  /** The order's lines at the catalog's prices; 400 for a SKU the catalog does not have. */
  private async price(body: PlaceOrderBody): Promise<Priced> {
    const prices = await this.pool.query<{ sku: string; price_cents: number; currency: string }>({
      name: 'catalog-prices',
      text: 'select sku, price_cents, currency from catalog where sku = any($1)',
      values: [body.items.map((item) => item.sku)],
    });
    const bySku = new Map(prices.rows.map((row) => [row.sku, row]));
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
      priceCents: bySku.get(sku)?.price_cents ?? 0,
    }));
    return { items, currency: prices.rows[0]?.currency ?? 'EUR' };
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
