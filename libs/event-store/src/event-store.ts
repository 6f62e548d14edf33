import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import type pg from 'pg';
import { isRemoved } from '@shop/resilience';
import { leadingLocalRelay, type LocalRelay } from './local-relay';
import {
  type AppendResult,
  type Checkpoint,
  ConcurrencyError,
  type ExpectedVersion,
  type NewEvent,
  type OutboxMessage,
  type RecordedEvent,
  START,
} from './types';

/** The NOTIFY channel the outbox relay listens on. */
export const OUTBOX_CHANNEL = 'outbox_pending';

export interface StreamAppend {
  readonly streamId: string;
  readonly expected: ExpectedVersion;
  readonly events: readonly NewEvent[];
  /**
   * With a numeric `expected`: the id of the event the writer believes is at
   * that version (a StateCache entry). Another event there, or none, fails
   * the append with ConcurrencyError, as a version mismatch does.
   */
  readonly lastEventId?: string;
}

export interface AppendOptions {
  /** Messages written to the outbox in the same transaction as the events. */
  readonly outbox?: readonly OutboxMessage[];
  /** See StreamAppend.lastEventId. */
  readonly lastEventId?: string;
}

/**
 * A condition an append at once (appendOnce, appendOnceToStreams) requires
 * besides its versions: a boolean SQL expression numbered from `$1` for its
 * own `values`, evaluated in the append's statement, e.g. `not exists
 * (select 1 from t where k = $1)`. False writes nothing, not even the claim,
 * and throws ConcurrencyError, as a failed version check does: a writer that
 * decided on state held in memory states there what else its decision
 * assumed of the database, and decides again under the locks when that no
 * longer holds, with no read before the statement.
 */
export interface AppendCondition {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/**
 * A write that commits with an append, in the append's own statement, and
 * only if the events were appended: a read model row, a saga deadline. `sql`
 * is one data-modifying statement numbered from `$1` for its own `values`;
 * it gates itself on the CTE `appended` (one row when the append happened),
 * e.g. `insert into t (a) select $1::int from appended` or
 * `delete from t where a = $1 and exists (select 1 from appended)`.
 */
export interface AlongsideWrite {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/** The message an append is the effect of, for appendOnce: its inbox row is the claim. */
export interface CausingMessage {
  readonly consumer: string;
  readonly messageId: string;
}

/**
 * What appendOnce claims before it appends: one row inserted with `on
 * conflict do nothing returning 1` (an idempotency key, say), numbered from
 * `$1` for its own `values`, selected `from checked` (the CTE that holds one
 * row when the append's check passed), e.g. `insert into keys (k) select
 * $1::text from checked on conflict do nothing returning 1`. No row back: the
 * claim was taken before, and nothing is written.
 */
export interface ClaimWrite {
  readonly claim: string;
  readonly values: readonly unknown[];
}

const INBOX_CLAIM =
  'insert into inbox (consumer, message_id) select $1, $2 from checked on conflict do nothing returning 1';

interface EventRow {
  event_id: string;
  stream_id: string;
  stream_version: number;
  global_position: string;
  transaction_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

/**
 * The claim, the required condition and the alongside CTEs of a composed
 * append, their parameters numbered from `firstParameter` in that order:
 * `claimed` selects from `checked`, `required` is a conjunct of `checked`
 * (empty when there is none), each alongside write sees `appended`.
 */
function composedCtes(
  claim: string | undefined,
  requires: string | undefined,
  alongside: readonly string[],
  firstParameter: number,
): { claimed: string; required: string; extra: string } {
  let next = firstParameter;
  const numbered = (sql: string) => {
    const renumbered = renumber(sql, next - 1);
    next += highestParameter(sql);
    return renumbered;
  };
  const claimed = claim === undefined ? '' : `, claimed as (${numbered(claim)})`;
  const required = requires === undefined ? '' : `\n       and (${numbered(requires)})`;
  const extra = alongside.map((sql, index) => `, alongside_${index} as (${numbered(sql)})`).join('');
  return { claimed, required, extra };
}

/** The outbox rows and the relay's NOTIFY, written when `gate` holds a row ($8 to $14). */
function outboxCtes(gate: string): string {
  return `, outboxed as (
    insert into outbox (message_id, topic, key, value, headers, traceparent)
    select m.id, m.topic, m.key, m.value, m.headers, $13
      from unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[]) as m(id, topic, key, value, headers)
     where exists (select 1 from ${gate})
    returning 1
  ), notified as (
    select pg_notify('${OUTBOX_CHANNEL}', '') where $14::boolean and exists (select 1 from outboxed)
  ), appended as (
    select 1 as appended where exists (select 1 from inserted)
  )`;
}

/**
 * The append as one statement. `claim`: a row inserted (parameters from $16)
 * only when the check passed; the events only when it was new. `requires`:
 * a condition the check also needs (AppendCondition), numbered next.
 * `alongside`: further CTEs, numbered from the next parameter, that see
 * `appended`.
 */
export function appendSql(
  claim: string | undefined,
  alongside: readonly string[],
  guarded = false,
  requires?: string,
): string {
  const gate = claim === undefined ? 'checked' : 'claimed';
  const { claimed, required, extra } = composedCtes(claim, requires, alongside, 16);
  return `
  with current_version as (
    select coalesce(max(stream_version), 0)::int as version from events where stream_id = $1
  )${
    guarded
      ? `, locked as materialized (
    select pg_try_advisory_xact_lock(hashtextextended($1, 0)) as granted
  )`
      : ''
  }, checked as (
    select version from current_version
     where ($2::int is null or version = $2::int)${guarded ? '\n       and (select granted from locked)' : ''}
       and ($15::uuid is null
            or exists (select 1 from events where stream_id = $1 and stream_version = $2::int and event_id = $15::uuid))${required}
  )${claimed}, inserted as (
    insert into events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
    select $1, checked.version + e.ordinality, e.id, e.type, e.schema_version, e.data, e.metadata
      from checked,
           unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
             with ordinality as e(id, type, schema_version, data, metadata, ordinality)
     where exists (select 1 from ${gate})
    returning global_position
  )${outboxCtes(gate)}${extra}
  select (select version from current_version) as version,
         (select array_agg(global_position order by global_position)::text[] from inserted) as positions,
         (select count(*) from notified) as notified,
         exists (select 1 from checked) as checked`;
}

/**
 * Appends to several streams as one statement, guarded as appendOnce's is:
 * the parameters of appendSql with arrays per stream ($1 ids, $2 expected
 * versions, $15 the event each writer believes is at its version) and $16
 * the stream (1-based) of each event; a claim's parameters from $17, then
 * the required condition's, then the alongside writes'. Every stream's lock
 * is tried (none waits, so the order does not matter) and every check must
 * pass, or nothing is written.
 */
export function appendStreamsSql(claim: string | undefined, alongside: readonly string[], requires?: string): string {
  const gate = claim === undefined ? 'checked' : 'claimed';
  const { claimed, required, extra } = composedCtes(claim, requires, alongside, 17);
  return `
  with streams as materialized (
    select s.stream_id, s.expected, s.last_event_id, s.idx
      from unnest($1::text[], $2::int[], $15::uuid[]) with ordinality as s(stream_id, expected, last_event_id, idx)
  ), locked as materialized (
    select bool_and(pg_try_advisory_xact_lock(hashtextextended(stream_id, 0))) as granted from streams
  ), current_version as materialized (
    select s.idx, s.stream_id, s.expected,
           (select coalesce(max(e.stream_version), 0)::int from events e where e.stream_id = s.stream_id) as version,
           coalesce(s.last_event_id is null
                    or (select e.event_id from events e
                         where e.stream_id = s.stream_id and e.stream_version = s.expected) = s.last_event_id,
                    false) as at_last_event
      from streams s
  ), checked as (
    -- Scalar subqueries per stream (index lookups): an EXISTS under NOT here was planned as a hashed
    -- subplan over the whole events table.
    select 1 as ok
     where (select granted from locked)
       and not exists (
         select 1 from current_version c
          where not ((c.expected is null or c.version = c.expected) and c.at_last_event))${required}
  )${claimed}, inserted as (
    insert into events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
    select c.stream_id, c.version + row_number() over (partition by e.idx order by e.ordinality)::int,
           e.id, e.type, e.schema_version, e.data, e.metadata
      from unnest($16::int[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
             with ordinality as e(idx, id, type, schema_version, data, metadata, ordinality)
      join current_version c on c.idx = e.idx
     where exists (select 1 from ${gate})
     order by e.ordinality
    returning global_position, stream_id
  )${outboxCtes(gate)}${extra}
  select (select array_agg(version order by idx) from current_version) as versions,
         (select array_agg(global_position::text order by global_position) from inserted) as positions,
         (select array_agg(stream_id order by global_position) from inserted) as position_streams,
         (select count(*) from notified) as notified,
         (select granted from locked) as granted,
         exists (select 1 from checked) as checked`;
}

const APPEND_SQL = appendSql(undefined, []);

/** The events as the append statements take them: $3 to $7, one array per column. */
function eventColumns(events: readonly NewEvent[]): unknown[][] {
  return [
    events.map((event) => event.id ?? randomUUID()),
    events.map((event) => event.type),
    events.map((event) => event.schemaVersion ?? 1),
    events.map((event) => JSON.stringify(event.data)),
    events.map((event) => JSON.stringify(event.metadata ?? {})),
  ];
}

/** Outbox messages as the statements take them: five arrays (id, topic, key, value, headers). */
function outboxColumns(messages: readonly OutboxMessage[]): unknown[][] {
  return [
    messages.map((message) => message.id),
    messages.map((message) => message.topic),
    messages.map((message) => message.key),
    messages.map((message) => message.value),
    messages.map((message) => JSON.stringify(message.headers ?? {})),
  ];
}

/** What appendOnce claims: the write given, or the message's inbox row. */
function claimWrite(claim: CausingMessage | ClaimWrite | undefined): ClaimWrite | undefined {
  if (claim && 'claim' in claim) return claim;
  // UNSAFE_REMOVE_PATTERNS=inbox: every delivery counts as the first (the proof that the inbox is what dedupes).
  if (claim && !isRemoved('inbox')) return { claim: INBOX_CLAIM, values: [claim.consumer, claim.messageId] };
  return undefined;
}

/** `sql` with each `$n` moved up by `offset`. */
function renumber(sql: string, offset: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

function highestParameter(sql: string): number {
  return (sql.match(/\$(\d+)/g) ?? []).reduce((max, p) => Math.max(max, Number(p.slice(1))), 0);
}

/**
 * Alongside writes as a statement of their own, with `appended` standing for
 * an append that happened: what a projection's rebuild runs, so that it
 * writes the read model with the very SQL the live appends carry.
 */
export function standaloneWrites(writes: readonly AlongsideWrite[]): { text: string; values: unknown[] } {
  let next = 0;
  const ctes = writes.map((write, index) => {
    const cte = `alongside_${index} as (${renumber(write.sql, next)})`;
    next += highestParameter(write.sql);
    return cte;
  });
  return {
    text: `with appended as (select 1 as appended)${ctes.map((cte) => `, ${cte}`).join('')} select 1`,
    values: writes.flatMap((write) => write.values),
  };
}

/**
 * The composed appends built so far, by their parts (a few per service): each
 * text is built, named and so parsed and planned once per connection. Looked
 * up part by part, so a call hashes the short SQL strings it was given, not
 * the long statement.
 */
interface ComposedNode {
  readonly next: Map<string, ComposedNode>;
  statement?: { readonly name: string; readonly text: string };
}
const composedRoot: ComposedNode = { next: new Map() };
let composedCount = 0;

function composedAppend(
  claim: string | undefined,
  requires: string | undefined,
  alongside: readonly string[],
  kind: 'open' | 'guarded' | 'streams',
): { name: string; text: string } {
  let node = composedRoot;
  for (const part of [kind, claim ?? '', requires ?? '', ...alongside]) {
    let child = node.next.get(part);
    if (!child) {
      child = { next: new Map() };
      node.next.set(part, child);
    }
    node = child;
  }
  node.statement ??= {
    name: `event-store-append-${++composedCount}`,
    text:
      kind === 'streams'
        ? appendStreamsSql(claim, alongside, requires)
        : appendSql(claim, alongside, kind === 'guarded', requires),
  };
  return node.statement;
}

const EVENT_COLUMNS =
  'event_id, stream_id, stream_version, global_position, transaction_id::text as transaction_id, type, schema_version, data, metadata, recorded_at';

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    position: BigInt(row.global_position),
    transactionId: BigInt(row.transaction_id),
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === '23505' && pgError.constraint === constraint;
}

/** The writer's trace context, stored with each outbox row so the relay publishes under it. */
function currentTraceparent(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'] ?? null;
}

/**
 * The append-only event store of one service, in its own PostgreSQL database.
 *
 * Every append writes the events and their outbox messages in one
 * transaction. A version conflict raises ConcurrencyError; the caller
 * retries the command against fresh state (see handleCommand).
 */
export class EventStore {
  private lastNotify = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: {
      /**
       * NOTIFY serialises the commits of every transaction that sends one, so a
       * process sends at most one per interval; the relay's polling fallback
       * covers the rest.
       */
      readonly notifyIntervalMs?: number;
    } = {},
  ) {}

  /**
   * Appends to one stream (see appendToStreams): one statement, one round
   * trip, with the `alongside` writes in it.
   */
  async appendToStream(
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    options: AppendOptions & {
      readonly client?: pg.PoolClient;
      readonly alongside?: readonly AlongsideWrite[];
    } = {},
  ): Promise<AppendResult> {
    const result = await this.appendComposed(
      options.client ?? this.pool,
      undefined,
      streamId,
      expected,
      events,
      options,
    );
    if (result === 'duplicate') throw new Error('unreachable: an append without a message cannot be a duplicate');
    return result;
  }

  /**
   * The append as the effect of a message (or of a request with an
   * idempotency key), at most once, in one statement and one round trip with
   * no transaction around it: the claim (the message's inbox row, or the
   * caller's ClaimWrite) is inserted, the events and outbox rows are
   * inserted, and `alongside` writes (read models, working state) run, all or
   * nothing. A claim taken before answers 'duplicate' and writes nothing; a
   * failed check (version, `lastEventId`) throws ConcurrencyError and writes
   * nothing, not even the claim, so the caller can decide again on the stream.
   * It also fails that way while another transaction holds the stream's
   * advisory lock (lockStreams): a writer that decides on the stream under the
   * lock is never overtaken between its read and its append.
   */
  async appendOnce(
    claim: CausingMessage | ClaimWrite | undefined,
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    options: AppendOptions & {
      readonly alongside?: readonly AlongsideWrite[];
      readonly requires?: AppendCondition;
    } = {},
  ): Promise<AppendResult | 'duplicate'> {
    // With no events nothing would tell a taken claim or a failed check from success.
    if (events.length === 0) throw new Error('appendOnce needs at least one event');
    return this.appendComposed(this.pool, claimWrite(claim), streamId, expected, events, {
      ...options,
      guarded: true,
    });
  }

  /**
   * appendOnce for a decision on several streams (ADR 0009): the claim, every
   * stream's events, the outbox rows and the alongside writes in one
   * autocommit statement, all or nothing. It tries every stream's lock and
   * checks every stream's version (and the event the writer believes is
   * there); one lock held elsewhere or one failed check writes nothing, not
   * even the claim, and throws ConcurrencyError (for the first stream;
   * `locked` when it was a lock). A claim taken before: 'duplicate'. Results
   * in the order of `appends`.
   */
  async appendOnceToStreams(
    claim: CausingMessage | ClaimWrite | undefined,
    appends: readonly StreamAppend[],
    options: AppendOptions & {
      readonly alongside?: readonly AlongsideWrite[];
      readonly requires?: AppendCondition;
    } = {},
  ): Promise<AppendResult[] | 'duplicate'> {
    if (appends.length === 0 || appends.some((append) => append.events.length === 0)) {
      throw new Error('appendOnceToStreams needs at least one event for every stream');
    }
    if (new Set(appends.map((append) => append.streamId)).size !== appends.length) {
      throw new Error('appendOnceToStreams takes each stream once');
    }
    const write = claimWrite(claim);
    const alongside = options.alongside ?? [];
    const outbox = options.outbox ?? [];
    const { requires } = options;
    const { name, text } = composedAppend(
      write?.claim,
      requires?.sql,
      alongside.map((entry) => entry.sql),
      'streams',
    );
    const events = appends.flatMap((append, index) => append.events.map((event) => ({ event, stream: index + 1 })));
    const { relay, notify } = this.wakeUp(this.pool, outbox);
    let result: pg.QueryResult<{
      versions: number[];
      positions: string[] | null;
      position_streams: string[] | null;
      granted: boolean;
      checked: boolean;
    }>;
    try {
      result = await this.pool.query({
        name,
        text,
        values: [
          appends.map((append) => append.streamId),
          appends.map(({ expected }) => (expected === 'any' ? null : expected === 'no_stream' ? 0 : expected)),
          ...eventColumns(events.map(({ event }) => event)),
          ...outboxColumns(outbox),
          outbox.length > 0 ? currentTraceparent() : null,
          notify,
          appends.map((append) => (typeof append.expected === 'number' ? (append.lastEventId ?? null) : null)),
          events.map(({ stream }) => stream),
          ...(write?.values ?? []),
          ...(requires?.values ?? []),
          ...alongside.flatMap((entry) => entry.values),
        ],
      });
    } catch (error) {
      const first = appends[0] as StreamAppend;
      if (isUniqueViolation(error, 'events_stream_id_stream_version_key')) {
        throw new ConcurrencyError(first.streamId, first.expected, undefined);
      }
      throw error;
    }
    const row = result.rows[0];
    const positions = row?.positions ?? [];
    if (positions.length === events.length) relay?.nudge();
    if (positions.length !== events.length) {
      // Checked but nothing inserted: the claim was taken before (the inbox had the message already).
      if (write && row?.checked) return 'duplicate';
      const first = appends[0] as StreamAppend;
      throw new ConcurrencyError(first.streamId, first.expected, row?.versions[0], { locked: row?.granted === false });
    }
    const streams = row?.position_streams ?? [];
    return appends.map((append, index) => ({
      nextVersion: (row?.versions[index] ?? 0) + append.events.length,
      positions: positions.filter((_, at) => streams[at] === append.streamId).map((position) => BigInt(position)),
    }));
  }

  private appendComposed(
    db: pg.Pool | pg.PoolClient,
    claim: ClaimWrite | undefined,
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    options: AppendOptions & {
      readonly alongside?: readonly AlongsideWrite[];
      readonly guarded?: boolean;
      readonly requires?: AppendCondition;
    },
  ): Promise<AppendResult | 'duplicate'> {
    const append: StreamAppend =
      options.lastEventId === undefined
        ? { streamId, expected, events }
        : { streamId, expected, events, lastEventId: options.lastEventId };
    const alongside = options.alongside ?? [];
    const guarded = options.guarded ?? false;
    const { requires } = options;
    if (!claim && alongside.length === 0 && !guarded && !requires) {
      return this.appendOne(db, append, options.outbox ?? []);
    }
    const { name, text } = composedAppend(
      claim?.claim,
      requires?.sql,
      alongside.map((write) => write.sql),
      guarded ? 'guarded' : 'open',
    );
    return this.appendOne(db, append, options.outbox ?? [], {
      name,
      text,
      values: [...(claim?.values ?? []), ...(requires?.values ?? []), ...alongside.flatMap((write) => write.values)],
      claimed: claim !== undefined,
    });
  }

  /**
   * Appends to several streams, each with its own expected version, all or
   * nothing (an order's reservation touches every SKU of the order). With
   * `client`, the append joins the caller's open transaction (an inbox
   * handler, an inline projection); otherwise it runs in its own.
   */
  async appendToStreams(
    appends: readonly StreamAppend[],
    options: AppendOptions & {
      readonly client?: pg.PoolClient;
      /** Writes that commit with the appends, in the last stream's statement (see AlongsideWrite). */
      readonly alongside?: readonly AlongsideWrite[];
    } = {},
  ): Promise<AppendResult[]> {
    const outbox = options.outbox ?? [];
    if (appends.length === 0) {
      await this.writeOutbox(options.client ?? this.pool, outbox);
      return [];
    }
    const appendAll = async (client: pg.PoolClient) => {
      const results: AppendResult[] = [];
      for (const [index, append] of appends.entries()) {
        // The outbox messages and the alongside writes travel with the last stream's statement.
        const last = index === appends.length - 1;
        const result = await this.appendComposed(client, undefined, append.streamId, append.expected, append.events, {
          ...(append.lastEventId === undefined ? {} : { lastEventId: append.lastEventId }),
          outbox: last ? outbox : [],
          alongside: last ? (options.alongside ?? []) : [],
        });
        if (result === 'duplicate') throw new Error('unreachable: an append without a claim cannot be a duplicate');
        results.push(result);
      }
      return results;
    };
    if (options.client) return appendAll(options.client);
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const results = await appendAll(client);
      await client.query('commit');
      return results;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The append itself, as one SQL statement: read the stream's version, check
   * it, insert the events and the outbox rows, and NOTIFY the relay. Without
   * a surrounding transaction the statement is its own, so an append costs one
   * round trip and one commit. A failed check (the version, and the event at
   * it when the writer names one) inserts nothing; a concurrent
   * writer that got the same version first makes the insert violate the
   * (stream, version) unique constraint.
   */
  private async appendOne(
    db: pg.Pool | pg.PoolClient,
    append: StreamAppend,
    outbox: readonly OutboxMessage[],
  ): Promise<AppendResult>;
  private async appendOne(
    db: pg.Pool | pg.PoolClient,
    append: StreamAppend,
    outbox: readonly OutboxMessage[],
    composed: { name: string; text: string; values: readonly unknown[]; claimed: boolean },
  ): Promise<AppendResult | 'duplicate'>;
  private async appendOne(
    db: pg.Pool | pg.PoolClient,
    { streamId, expected, events, lastEventId }: StreamAppend,
    outbox: readonly OutboxMessage[],
    composed?: { name: string; text: string; values: readonly unknown[]; claimed: boolean },
  ): Promise<AppendResult | 'duplicate'> {
    const { relay, notify } = this.wakeUp(db, outbox);
    let result: pg.QueryResult<{ version: number; positions: string[] | null; checked: boolean }>;
    try {
      result = await db.query({
        name: composed?.name ?? 'event-store-append',
        text: composed?.text ?? APPEND_SQL,
        values: [
          streamId,
          expected === 'any' ? null : expected === 'no_stream' ? 0 : expected,
          ...eventColumns(events),
          ...outboxColumns(outbox),
          outbox.length > 0 ? currentTraceparent() : null,
          notify,
          typeof expected === 'number' ? (lastEventId ?? null) : null,
          ...(composed?.values ?? []),
        ],
      });
    } catch (error) {
      if (isUniqueViolation(error, 'events_stream_id_stream_version_key')) {
        throw new ConcurrencyError(streamId, expected, undefined);
      }
      throw error;
    }
    const row = result.rows[0];
    const version = row?.version ?? 0;
    const positions = (row?.positions ?? []).map((position) => BigInt(position));
    if (positions.length === events.length) relay?.nudge();
    if (positions.length !== events.length) {
      // Checked but nothing inserted: the claim was taken before (the inbox had the message already).
      if (composed?.claimed && row?.checked) return 'duplicate';
      throw new ConcurrencyError(streamId, expected, version);
    }
    return { nextVersion: version + events.length, positions };
  }

  /**
   * How an append that writes `outbox` rows on `db` wakes the relay. An
   * autocommit statement on the pool nudges a leading relay of this process
   * itself once it committed (`relay`, local-relay.ts). Otherwise it NOTIFYs
   * (at most every notifyIntervalMs): in a caller's transaction only a
   * NOTIFY, delivered at its commit, tells the relay when the rows are there.
   */
  private wakeUp(
    db: pg.Pool | pg.PoolClient,
    outbox: readonly OutboxMessage[],
  ): { relay: LocalRelay | undefined; notify: boolean } {
    const relay = db === this.pool && outbox.length > 0 ? leadingLocalRelay(this.pool) : undefined;
    return { relay, notify: !relay && this.notifyNow(outbox) };
  }

  /** Whether this append NOTIFYs the relay: when it writes outbox rows, at most every notifyIntervalMs. */
  private notifyNow(outbox: readonly OutboxMessage[]): boolean {
    const notify = outbox.length > 0 && Date.now() - this.lastNotify >= (this.options.notifyIntervalMs ?? 20);
    if (notify) this.lastNotify = Date.now();
    return notify;
  }

  /**
   * Outbox messages with no events: a reply that records no change of state
   * (a refused command's answer), still published at least once.
   */
  async writeOutbox(db: pg.Pool | pg.PoolClient, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await db.query({
      name: 'outbox-write',
      text: `with written as (
         insert into outbox (message_id, topic, key, value, headers, traceparent)
         select m.id, m.topic, m.key, m.value, m.headers, $6
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) as m(id, topic, key, value, headers)
         returning 1
       )
       select pg_notify('${OUTBOX_CHANNEL}', '') from (select count(*) from written) as w`,
      values: [...outboxColumns(messages), currentTraceparent()],
    });
  }

  /** The events of one stream from `fromVersion` on (inclusive), in version order. */
  async readStream(streamId: string, fromVersion = 1, client?: pg.PoolClient): Promise<RecordedEvent[]> {
    const result = await (client ?? this.pool).query<EventRow>({
      name: 'event-store-read-stream',
      text: `select ${EVENT_COLUMNS} from events where stream_id = $1 and stream_version >= $2 order by stream_version`,
      values: [streamId, fromVersion],
    });
    return result.rows.map(toRecorded);
  }

  /**
   * Up to `limit` events after `checkpoint`, in commit-safe order: by
   * (transaction id, position), and only from transactions older than every
   * transaction still running. A transaction that commits later can only have
   * a larger transaction id than anything returned here, so a reader that
   * follows its checkpoint never skips an event nor sees one twice (ADR 0004).
   */
  async readAll(
    checkpoint: Checkpoint = START,
    limit = 500,
    client?: pg.PoolClient,
    upTo: 'settled' | 'committed' = 'settled',
  ): Promise<RecordedEvent[]> {
    // 'settled' stops before the oldest transaction still open, so a reader that keeps a checkpoint
    // never moves past an event that commits later with a lower position (ADR 0004); 'committed'
    // reads every event committed so far, for a caller that keeps no checkpoint across transactions.
    const settled = upTo === 'settled' ? 'and transaction_id < pg_snapshot_xmin(pg_current_snapshot())' : '';
    const result = await (client ?? this.pool).query<EventRow>(
      `select ${EVENT_COLUMNS} from events
        where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
          ${settled}
        order by transaction_id, global_position
        limit $3`,
      [checkpoint.transactionId.toString(), checkpoint.position.toString(), limit],
    );
    return result.rows.map(toRecorded);
  }
}

export function checkpointOf(event: RecordedEvent): Checkpoint {
  return { transactionId: event.transactionId, position: event.position };
}
