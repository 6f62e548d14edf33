import type pg from 'pg';
import { z } from 'zod';

export interface Profile {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
}

const userIdSchema = z.uuid();

/** A user's profile from the `users` read model; undefined for an unknown or malformed id. */
export class ProfileHandler {
  constructor(private readonly pool: pg.Pool) {}

  async find(userId: string): Promise<Profile | undefined> {
    if (!userIdSchema.safeParse(userId).success) return undefined;
    const { rows } = await this.pool.query<{ user_id: string; email: string; name: string }>(
      'select user_id, email, name from users where user_id = $1',
      [userId],
    );
    const row = rows[0];
    return row ? { userId: row.user_id, email: row.email, name: row.name } : undefined;
  }
}
