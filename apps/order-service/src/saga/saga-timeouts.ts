import type pg from 'pg';
import type { OrderStore } from '../order/order.store';

export interface TimeoutLogger {
  warn(details: object, message: string): void;
}

/**
 * Durable saga timeouts: the deadline of every PENDING order is a row in
 * saga_deadlines (written with the order's events), so a restart loses none.
 * This poller rejects orders past their deadline with reason TIMEOUT, which
 * compensates what was done. Several instances may poll: the order's lock and
 * the decider make a second TimeOut a no-op.
 */
export class SagaTimeouts {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly orders: OrderStore,
    private readonly logger: TimeoutLogger,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.expireDue()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'saga timeout check failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Rejects every order whose deadline has passed; returns how many. */
  async expireDue(): Promise<number> {
    const due = await this.pool.query<{ order_id: string }>(
      'select order_id from saga_deadlines where deadline <= now() order by deadline limit 100',
    );
    let expired = 0;
    for (const { order_id: orderId } of due.rows) {
      const decided = await this.orders.execute(
        orderId,
        { kind: 'TimeOut', now: new Date().toISOString() },
        { correlationId: orderId, causationId: `timeout:${orderId}` },
      );
      if (decided !== 'duplicate' && decided.events.length > 0) expired += 1;
    }
    return expired;
  }
}
