import pg from 'pg';
import { Counter, Gauge, Histogram, register } from 'prom-client';
import { isRemoved } from '@shop/resilience';
import { OUTBOX_CHANNEL } from './event-store';
import { type LocalRelay, registerLocalRelay } from './local-relay';
import { sessionOptions } from './pool';
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

/** See OutboxRelayOptions.minPassIntervalMs. */
const DEFAULT_MIN_PASS_INTERVAL_MS = 40;

export interface OutboxRelayOptions {
  /**
   * A connection string for the relay's own connection: it listens for
   * NOTIFY, holds the relay lock, and runs the passes (the pool's own
   * connections are never held idle).
   */
  readonly listenConnectionString: string;
  readonly batchSize?: number;
  /** Polling fallback when no notification arrives (default 250 ms; CONTRACT: published within 1 s). */
  readonly pollIntervalMs?: number;
  /**
   * A pass after one that was not full starts at least this long after it
   * (default 40 ms), so writes that commit close together go in one batch.
   * It bounds a busy relay's passes (40 ms: 25 a second), and with them the
   * produce requests and the consumers' fetches and transactions downstream;
   * an idle relay is not slowed (a pass is late only when the one before it
   * was less than this long ago). In interleaved runs on one held stack at
   * 70 orders/s, 40 ms instead of 20 took the machine from 179-196 % busy
   * (of 200) to 163-171 %. The price is latency: a busy relay's row waits
   * up to this long, at each of the saga's relay hops (bench/README.md).
   */
  readonly minPassIntervalMs?: number;
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
 * One statement per pass: marks the rows the previous pass published as sent
 * (the broker acknowledged them) and reads the next batch of pending rows of
 * finished transactions, in commit-safe order. The read does not see the
 * mark (one snapshot), so it leaves those rows out by id.
 */
const NEXT_SQL = `with sent as (
    update outbox set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null
     where id = any($2::bigint[]) and status = 'pending'
  )
  select id, message_id, topic, key, value, headers, traceparent, created_at
    from outbox
   where status = 'pending' and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     and id <> all($2::bigint[])
   order by transaction_id, id
   limit $1`;

const MARK_SENT_SQL =
  "update outbox set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null where id = any($1::bigint[]) and status = 'pending'";

/**
 * Publishes the outbox to Kafka: pending rows of finished transactions, in
 * commit-safe order (so in order per key), marked sent only after the broker
 * acknowledged them. A crash between publish and mark means a duplicate,
 * never a loss; consumers deduplicate with the inbox.
 *
 * Wakes when a writer of this process on the same pool committed outbox rows
 * (it nudges the relay directly while the relay leads), on NOTIFY (sent by
 * the other writers), and polls as a fallback. Several relays
 * may run against one database; the one that holds a session advisory lock
 * on its LISTEN connection publishes, the others wait for it. If the leader
 * dies, its connection and its lock go with it and another takes over. A
 * pass is one autocommit statement, on that same connection (never queued
 * behind the writers for the pool's): it marks the previous pass's rows sent
 * and reads the next batch, so a relay makes one round trip to the database
 * per batch (and one per poll when idle). After a batch that was not full it
 * waits for the next notification or poll, whose pass marks that batch: a
 * published row may show as pending for up to one poll interval, and a crash
 * in that window publishes it again (a duplicate, as before).
 *
 * Leadership only saves duplicates, it is not what keeps order: a relay
 * publishes rows in order and reads a row only after every earlier row was
 * published (by it) or acknowledged (marked sent, by anyone), so even two
 * relays that both believe they lead (a leader cut off from the database
 * before it knows it) publish every key's messages first in their order.
 */
export class OutboxRelay implements LocalRelay {
  private running = false;
  private unregister: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private listener: pg.Client | undefined;
  /** True while this relay's LISTEN connection holds the relay lock. */
  private leading = false;
  private wake: (() => void) | undefined;
  /** A notification that arrived while no one was waiting. */
  private notified = false;
  private failuresInARow = 0;
  private lastPrune = 0;
  /** Rows the broker acknowledged and the database does not know yet: marked by the next pass. */
  private unmarked: string[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly publisher: OutboxPublisher,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    backlogSources.add(this.pool);
    this.unregister = registerLocalRelay(this.pool, this);
    this.loop = this.run();
  }

  get isLeading(): boolean {
    return this.running && this.leading;
  }

  /** Starts a pass now, or right after the one in progress (a notification, or a writer of this process). */
  nudge(): void {
    if (!this.leading) return; // a relay that waits for the lock polls for it, it does not race for each append
    if (this.wake) this.wake();
    else this.notified = true;
  }

  /** Finishes the batch in flight, marks it sent, then stops (and lets go of the lock). */
  async stop(): Promise<void> {
    this.running = false;
    backlogSources.delete(this.pool);
    this.unregister?.();
    this.unregister = undefined;
    this.wake?.();
    this.wake = undefined;
    await this.loop;
    await this.flushMarks().catch(() => undefined);
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
    this.leading = false;
  }

  private async run(): Promise<void> {
    let passStartedAt = 0;
    while (this.running) {
      await this.ensureLeading();
      // Woken soon after a pass that was not full: gather what else commits within minPassIntervalMs, so a
      // busy database is relayed in batches (one statement and one produce request per batch, not per write).
      const gather = passStartedAt + (this.options.minPassIntervalMs ?? DEFAULT_MIN_PASS_INTERVAL_MS) - Date.now();
      if (gather > 0) await new Promise((resolve) => setTimeout(resolve, gather));
      passStartedAt = Date.now();
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
      // A full batch means more may be waiting; otherwise the next notification (or poll) brings the
      // next pass, and that pass marks this one's rows sent.
      if (published < (this.options.batchSize ?? 500)) await this.pause(this.options.pollIntervalMs ?? 250);
      else passStartedAt = 0;
    }
  }

  /**
   * One pass: mark the previous batch sent and read the next (one statement),
   * publish it. Returns how many it published (0 when idle or when another
   * relay leads).
   */
  async relayOnce(): Promise<number> {
    if (!this.leading) {
      await this.flushMarks();
      return 0;
    }
    const marking = this.unmarked;
    const result = await this.connection.query<OutboxRow>({
      name: 'outbox-relay-next',
      text: NEXT_SQL,
      values: [this.options.batchSize ?? 500, marking],
    });
    this.unmarked = [];
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
    if (rows.length === 0) return 0;
    const ids = rows.map((row) => row.id.toString());
    try {
      await this.publisher.publish(rows);
    } catch (error) {
      failures.inc();
      if (isRemoved('outbox')) {
        // UNSAFE_REMOVE_PATTERNS=outbox: publish once after the commit and forget, as a service
        // without an outbox does; a failed publish loses its messages (the proof of the outbox).
        await this.connection.query({ name: 'outbox-relay-dropped', text: OUTBOX_DROPPED_SQL, values: [ids] });
        this.options.logger?.warn({ err: error, dropped: ids.length }, 'publish failed; messages dropped');
        return 0;
      }
      await this.connection
        .query({
          name: 'outbox-relay-failed',
          text: 'update outbox set attempts = attempts + 1, last_error = $2 where id = any($1::bigint[])',
          values: [ids, error instanceof Error ? error.message.slice(0, 1_000) : String(error)],
        })
        .catch(() => undefined);
      throw error;
    }
    this.unmarked = ids;
    const now = Date.now();
    published.inc(rows.length);
    for (const row of rows) relayLag.observe((now - row.createdAt.getTime()) / 1000);
    return rows.length;
  }

  /**
   * Where a pass runs: on the relay's own connection while it leads, not on
   * the pool. Under load the writers' statements queue for the pool's
   * connections, and a pass that queued with them waited its turn behind
   * every write it was to publish: in `npm run bench:relay` (2,000
   * appends/s, open loop) that put the p99 from commit to Kafka's
   * acknowledgement at 262 to 1,255 ms, against 72 to 81 ms on its own
   * connection in the same hour.
   */
  private get connection(): pg.ClientBase | pg.Pool {
    return this.leading && this.listener ? this.listener : this.pool;
  }

  /** Marks what the broker acknowledged and no pass marked yet (on stop, and when leadership is lost). */
  private async flushMarks(): Promise<void> {
    if (this.unmarked.length === 0) return;
    await this.connection.query({ name: 'outbox-relay-mark-sent', text: MARK_SENT_SQL, values: [this.unmarked] });
    this.unmarked = [];
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

  /**
   * Keeps a LISTEN connection and, on it, tries for the relay lock (a session
   * lock: it lasts as long as the connection). A relay that does not lead
   * tries again at its next poll.
   */
  private async ensureLeading(): Promise<void> {
    if (!this.listener) {
      const listener = new pg.Client({
        connectionString: this.options.listenConnectionString,
        options: sessionOptions(this.options.listenConnectionString),
      });
      listener.on('notification', () => this.nudge());
      // A lost connection is a lost lock: the server lets go of it, and this relay stops leading until it
      // has connected and taken the lock again (another relay may have it by then).
      listener.on('error', () => {
        if (this.listener === listener) {
          this.listener = undefined;
          this.leading = false;
        }
        void listener.end().catch(() => undefined);
      });
      try {
        await listener.connect();
        await listener.query(`listen ${OUTBOX_CHANNEL}`);
        this.listener = listener;
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'outbox relay cannot reach its database; will retry');
        await listener.end().catch(() => undefined);
        return;
      }
    }
    if (this.leading) return;
    const listener = this.listener;
    try {
      const lock = await listener.query<{ locked: boolean }>({
        text: 'select pg_try_advisory_lock(hashtextextended($1, 0)) as locked',
        values: [this.options.lockName ?? 'outbox-relay'],
      });
      this.leading = this.listener === listener && lock.rows[0]?.locked === true;
    } catch {
      // The connection's error handler forgets it; the next loop connects again.
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
