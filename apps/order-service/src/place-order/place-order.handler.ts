import { ConflictException, BadRequestException } from '@nestjs/common';
import type pg from 'pg';
import { problem } from '@shop/health';
import { isRemoved } from '@shop/resilience';
import type { OrderStore } from '../order/order.store';
import { recordSagaOutcome } from '../order/saga.metrics';
import { bodyHash, newOrderId, type PlaceOrderBody } from './place-order.dto';

export interface PlaceOrderResult {
  readonly orderId: string;
  readonly status: string;
  /** false for a replay of the same key and body. */
  readonly created: boolean;
}

/**
 * Accepts an order: prices it against order-service's own catalog, and in one
 * transaction stores the user's idempotency key with the body's hash, the
 * order's first event, the orders row and the saga's first command. Duplicates
 * sent at the same time wait on the key's row and then find the first one's
 * order: one order, whatever the retries.
 */
export class PlaceOrderHandler {
  constructor(
    private readonly pool: pg.Pool,
    private readonly orders: OrderStore,
    private readonly sagaTimeoutMs: number,
  ) {}

  async place(userId: string, key: string, body: PlaceOrderBody, raw: unknown): Promise<PlaceOrderResult> {
    const hash = bodyHash(raw);
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const orderId = newOrderId();
      // UNSAFE_REMOVE_PATTERNS=idempotency-key: every request claims a key of its own (the proof of the key).
      const claim = isRemoved('idempotency-key') ? `${key}#${orderId}` : key;
      const claimed = await client.query(
        `insert into idempotency_keys (user_id, key, body_hash, order_id) values ($1, $2, $3, $4)
         on conflict (user_id, key) do nothing`,
        [userId, claim, hash, orderId],
      );
      if (claimed.rowCount === 0) {
        await client.query('rollback');
        return this.replay(userId, key, hash);
      }
      const prices = await client.query<{ sku: string; price_cents: number; currency: string }>(
        'select sku, price_cents, currency from catalog where sku = any($1)',
        [body.items.map((item) => item.sku)],
      );
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
      const currency = prices.rows[0]?.currency ?? 'EUR';
      const placed = await this.orders.execute(
        orderId,
        {
          kind: 'PlaceOrder',
          orderId,
          userId,
          items,
          currency,
          paymentToken: body.paymentToken,
          now: new Date().toISOString(),
          timeoutMs: this.sagaTimeoutMs,
        },
        { correlationId: orderId, causationId: `idempotency-key:${key}` },
        { client },
      );
      await client.query('commit');
      if (placed !== 'duplicate') recordSagaOutcome(placed.before, placed.after);
      return { orderId, status: 'PENDING', created: true };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
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
