import pg from 'pg';
import { Counter, Gauge, Histogram, register } from 'prom-client';
import { isRemoved } from '@shop/resilience';
import { OUTBOX_CHANNEL } from './event-store';
import { pruneInbox, pruneOutbox } from './retention';

/** An outbox row waiting to be published. */
export interface PendingMessage {
  readonly id: bigint;
  readonly messageId: string;
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The writer's W3C trace context. */
  readonly traceparent: string | null;
  readonly createdAt: Date;
}

/** Publishes a batch, in the order given, or fails as a whole (then every message is retried). */
export interface OutboxPublisher {
  publish(messages: readonly PendingMessage[]): Promise<void>;
}

export interface RelayLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface OutboxRelayOptions {
  /** A connection string for the LISTEN connection (the pool's own connections are never held idle). */
  readonly listenConnectionString: string;
  readonly batchSize?: number;
  /** Polling fallback when no notification arrives (default 250 ms; CONTRACT: published within 1 s). */
  readonly pollIntervalMs?: number;
  /** Upper bound of the backoff after a failed publish (default 5 s). */
  readonly maxBackoffMs?: number;
  readonly logger?: RelayLogger;
  /** Retention: sent outbox rows and inbox rows older than these are pruned every `everyMs`. */
  readonly retention?: { readonly sentMs: number; readonly inboxMs: number; readonly everyMs: number };
  /** One relay at a time per database publishes; the others wait (order per key needs one). */
  readonly lockName?: string;
}

function metric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

const published = metric(
  'outbox_published_total',
  () => new Counter({ name: 'outbox_published_total', help: 'Outbox messages published to Kafka' }),
);
const failures = metric(
  'outbox_publish_failures_total',
  () => new Counter({ name: 'outbox_publish_failures_total', help: 'Failed outbox publish attempts (batches)' }),
);
const relayLag = metric(
  'outbox_relay_lag_seconds',
  () =>
    new Histogram({
      name: 'outbox_relay_lag_seconds',
      help: 'Time from an outbox row being written to its publish being acknowledged',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
);

/** The databases of the relays running in this process, whose pending rows the backlog gauge counts. */
const backlogSources = new Set<pg.Pool>();
metric(
  'outbox_pending_messages',
  () =>
    new Gauge({
      name: 'outbox_pending_messages',
      help: 'Outbox rows not yet published (counted when scraped)',
      async collect() {
        let pending = 0;
        for (const pool of backlogSources) {
          const result = await pool
            .query<{ n: number }>("select count(*)::int as n from outbox where status = 'pending'")
            .catch(() => undefined);
          pending += result?.rows[0]?.n ?? 0;
        }
        this.set(pending);
      },
    }),
);

/** With the outbox removed, a failed publish is not retried: its rows count as sent (nothing else reads them). */
const OUTBOX_DROPPED_SQL =
  "update outbox set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = 'dropped' where id = any($1::bigint[])";

/** A publish that failed after its attempt was recorded and committed. */
class PublishFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('publish failed');
  }
}

interface OutboxRow {
  id: string;
  message_id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  traceparent: string | null;
  created_at: Date;
}

/**
 * Publishes the outbox to Kafka: pending rows of finished transactions, in
 * commit-safe order (so in order per key), marked sent only after the broker
 * acknowledged them. A crash between publish and mark means a duplicate,
 * never a loss; consumers deduplicate with the inbox.
 *
 * Wakes on NOTIFY (sent by appends) with a polling fallback. Several relays
 * may run against one database: a transaction-scoped advisory lock lets one
 * batch run at a time, so order per key holds; if the active relay dies its
 * lock goes with its transaction and another takes over.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private listener: pg.Client | undefined;
  private wake: (() => void) | undefined;
  /** A notification that arrived while no one was waiting. */
  private notified = false;
  private failuresInARow = 0;
  private lastPrune = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly publisher: OutboxPublisher,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    backlogSources.add(this.pool);
    this.loop = this.run();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    backlogSources.delete(this.pool);
    this.wake?.();
    this.wake = undefined;
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.ensureListening();
      let published = 0;
      try {
        published = await this.relayOnce();
        this.failuresInARow = 0;
        await this.pruneIfDue();
      } catch (error) {
        this.failuresInARow += 1;
        this.options.logger?.warn({ err: error, attempt: this.failuresInARow }, 'outbox publish failed; will retry');
        await this.pause(this.backoffMs());
        continue;
      }
      if (published === 0) await this.pause(this.options.pollIntervalMs ?? 250);
    }
  }

  /**
   * One batch: lock, read pending rows of finished transactions, publish,
   * mark sent. Returns how many it published (0 when idle or another relay
   * holds the lock).
   */
  async relayOnce(): Promise<number> {
    // One autocommit statement when there is nothing to send (every idle poll, and the loop's pass
    // after each batch) instead of a transaction of three.
    const peek = await this.pool.query<{ pending: boolean }>({
      name: 'outbox-relay-peek',
      text: `select exists (select 1 from outbox where status = 'pending') as pending`,
    });
    if (!peek.rows[0]?.pending) return 0;
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      // The lock in a statement of its own: the read after it takes its snapshot once the lock is held,
      // so it sees as sent what the previous holder marked sent before it let go.
      const lock = await client.query<{ locked: boolean }>({
        name: 'outbox-relay-lock',
        text: 'select pg_try_advisory_xact_lock(hashtextextended($1, 0)) as locked',
        values: [this.options.lockName ?? 'outbox-relay'],
      });
      if (!lock.rows[0]?.locked) {
        await client.query('rollback');
        return 0;
      }
      const result = await client.query<OutboxRow>({
        name: 'outbox-relay-pending',
        text: `select id, message_id, topic, key, value, headers, traceparent, created_at
           from outbox
          where status = 'pending' and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          order by transaction_id, id
          limit $1`,
        values: [this.options.batchSize ?? 500],
      });
      const rows = result.rows.map((row): PendingMessage => ({
        id: BigInt(row.id),
        messageId: row.message_id,
        topic: row.topic,
        key: row.key,
        value: row.value,
        headers: row.headers,
        traceparent: row.traceparent,
        createdAt: row.created_at,
      }));
      if (rows.length === 0) {
        await client.query('commit');
        return 0;
      }
      const ids = rows.map((row) => row.id.toString());
      try {
        await this.publisher.publish(rows);
      } catch (error) {
        failures.inc();
        if (isRemoved('outbox')) {
          // UNSAFE_REMOVE_PATTERNS=outbox: publish once after the commit and forget, as a service
          // without an outbox does; a failed publish loses its messages (the proof of the outbox).
          await client.query({ name: 'outbox-relay-dropped', text: OUTBOX_DROPPED_SQL, values: [ids] });
          await client.query('commit');
          this.options.logger?.warn({ err: error, dropped: ids.length }, 'publish failed; messages dropped');
          return 0;
        }
        await client.query({
          name: 'outbox-relay-failed',
          text: 'update outbox set attempts = attempts + 1, last_error = $2 where id = any($1::bigint[])',
          values: [ids, error instanceof Error ? error.message.slice(0, 1_000) : String(error)],
        });
        await client.query('commit');
        throw new PublishFailed(error);
      }
      await client.query({
        name: 'outbox-relay-sent',
        text: "update outbox set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null where id = any($1::bigint[])",
        values: [ids],
      });
      await client.query('commit');
      const now = Date.now();
      published.inc(rows.length);
      for (const row of rows) relayLag.observe((now - row.createdAt.getTime()) / 1000);
      return rows.length;
    } catch (error) {
      if (!(error instanceof PublishFailed)) await client.query('rollback').catch(() => undefined);
      throw error instanceof PublishFailed ? error.cause : error;
    } finally {
      client.release();
    }
  }

  private backoffMs(): number {
    const cap = Math.min(this.options.maxBackoffMs ?? 5_000, 100 * 2 ** this.failuresInARow);
    return Math.random() * cap; // full jitter
  }

  /** Waits for a notification, the timeout, or stop(); returns at once if one came while we were busy. */
  private pause(ms: number): Promise<void> {
    if (this.notified || !this.running) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async ensureListening(): Promise<void> {
    if (this.listener) return;
    const listener = new pg.Client({ connectionString: this.options.listenConnectionString });
    listener.on('notification', () => {
      if (this.wake) this.wake();
      else this.notified = true;
    });
    // A lost LISTEN connection only costs latency: polling goes on, and the next loop reconnects.
    listener.on('error', () => {
      if (this.listener === listener) this.listener = undefined;
      void listener.end().catch(() => undefined);
    });
    try {
      await listener.connect();
      await listener.query(`listen ${OUTBOX_CHANNEL}`);
      this.listener = listener;
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'outbox relay cannot LISTEN; polling only');
      await listener.end().catch(() => undefined);
    }
  }

  private async pruneIfDue(): Promise<void> {
    const retention = this.options.retention;
    if (!retention || Date.now() - this.lastPrune < retention.everyMs) return;
    this.lastPrune = Date.now();
    const sent = await pruneOutbox(this.pool, retention.sentMs);
    const inbox = await pruneInbox(this.pool, retention.inboxMs);
    if (sent + inbox > 0) this.options.logger?.info({ sent, inbox }, 'pruned outbox and inbox');
  }
}
