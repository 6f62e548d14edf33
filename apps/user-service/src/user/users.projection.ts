import type { Migration, Projection } from '@shop/event-store';
import type pg from 'pg';
import { toUserEvent, type UserEvent } from './user.events';

/** user-service's own schema, after the event store's (numbered from 100). */
export const USER_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'users read model',
    sql: `
      create table users (
        user_id       uuid        primary key,
        email         text        not null,
        email_lower   text        not null,
        name          text        not null,
        password_hash text        not null,
        registered_at timestamptz not null,
        constraint users_email_lower_key unique (email_lower)
      );
    `,
  },
];

/** The constraint that makes an email unique, case-insensitively, across users. */
export const EMAIL_TAKEN_CONSTRAINT = 'users_email_lower_key';

/** Emails compare case-insensitively: one account per address, however it is typed. */
export const normalizeEmail = (email: string): string => email.toLowerCase();

/**
 * Applies one user event to the `users` read model. Called inline, in the
 * transaction that appends the event (so a second account for an email fails
 * that transaction), and by `rebuild` when the read model is replayed.
 */
export async function projectUserEvent(client: pg.PoolClient, event: UserEvent): Promise<void> {
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, name, passwordHash, registeredAt } = event.data;
      await client.query(
        `insert into users (user_id, email, email_lower, name, password_hash, registered_at)
         values ($1, $2, $3, $4, $5, $6)`,
        [userId, email, normalizeEmail(email), name, passwordHash, registeredAt],
      );
      return;
    }
    default: {
      const unknown: never = event.type;
      return unknown;
    }
  }
}

/** The same read model as a replayable projection (`rebuild(pool, store, usersProjection)`). */
export const usersProjection: Projection = {
  name: 'users',
  async apply(client, recorded) {
    const event = toUserEvent(recorded);
    if (event) await projectUserEvent(client, event);
  },
  async reset(client) {
    await client.query('truncate users');
  },
};
