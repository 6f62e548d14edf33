import type pg from 'pg';

/**
 * The event store's schema, as numbered migrations applied at start-up. A
 * migration is never edited once released: a change is a new migration.
 * Applying is safe to run twice and from several processes at once (an
 * advisory lock serialises them; applied versions are recorded).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const EVENT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    sql: `
      create table events (
        global_position bigint generated always as identity primary key,
        stream_id       text        not null,
        stream_version  integer     not null check (stream_version > 0),
        event_id        uuid        not null unique,
        type            text        not null,
        schema_version  integer     not null default 1,
        data            jsonb       not null,
        metadata        jsonb       not null default '{}',
        recorded_at     timestamptz not null default now(),
        -- The writing transaction: readers order by (transaction_id, global_position)
        -- and read only finished transactions (ADR 0004).
        transaction_id  xid8        not null default pg_current_xact_id(),
        unique (stream_id, stream_version)
      );
      create index events_commit_order on events (transaction_id, global_position);
    `,
  },
  {
    version: 2,
    name: 'outbox',
    sql: `
      create table outbox (
        id             bigint generated always as identity primary key,
        message_id     text        not null,
        topic          text        not null,
        key            text        not null,
        value          text        not null,
        headers        jsonb       not null default '{}',
        -- W3C trace context of the writer; the relay publishes under it.
        traceparent    text,
        status         text        not null default 'pending' check (status in ('pending', 'sent')),
        attempts       integer     not null default 0,
        last_error     text,
        created_at     timestamptz not null default now(),
        sent_at        timestamptz,
        transaction_id xid8        not null default pg_current_xact_id()
      );
      create index outbox_pending on outbox (transaction_id, id) where status = 'pending';
      create index outbox_sent_at on outbox (sent_at) where status = 'sent';
    `,
  },
  {
    version: 3,
    name: 'inbox',
    sql: `
      create table inbox (
        consumer    text        not null,
        message_id  text        not null,
        received_at timestamptz not null default now(),
        primary key (consumer, message_id)
      );
      create index inbox_received_at on inbox (received_at);
    `,
  },
  {
    version: 4,
    name: 'snapshots and projection checkpoints',
    sql: `
      create table snapshots (
        stream_id      text        primary key,
        stream_version integer     not null,
        state          jsonb       not null,
        taken_at       timestamptz not null default now()
      );
      create table projection_checkpoints (
        projection     text        primary key,
        transaction_id xid8        not null,
        global_position bigint     not null,
        updated_at     timestamptz not null default now()
      );
    `,
  },
];

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its
 * own transaction, under a transaction-scoped advisory lock. A service passes
 * the event store's migrations followed by its own (read models), numbered
 * from 100 on.
 */
export async function migrate(
  pool: pg.Pool,
  migrations: readonly Migration[] = EVENT_STORE_MIGRATIONS,
): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      await client.query('begin');
      try {
        await client.query("select pg_advisory_xact_lock(hashtextextended('schema_migrations', 0))");
        await client.query(`
          create table if not exists schema_migrations (
            version    integer     primary key,
            name       text        not null,
            applied_at timestamptz not null default now()
          )`);
        const done = await client.query('select 1 from schema_migrations where version = $1', [migration.version]);
        if (done.rowCount === 0) {
          await client.query(migration.sql);
          await client.query('insert into schema_migrations (version, name) values ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          applied.push(migration.version);
        }
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
    }
  } finally {
    client.release();
  }
  return applied;
}
