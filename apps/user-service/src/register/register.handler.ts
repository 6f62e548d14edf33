import { randomUUID } from 'node:crypto';
import type { EventStore } from '@shop/event-store';
import type pg from 'pg';
import type { Clock } from '../clock';
import type { PasswordHasher } from '../password/password-hasher';
import { userDecider } from '../user/user.decider';
import { userStreamId } from '../user/user.events';
import { EMAIL_TAKEN_CONSTRAINT, projectUserEvent } from '../user/users.projection';
import type { RegisterBody } from './register.dto';

export type RegisterResult =
  { readonly kind: 'registered'; readonly userId: string } | { readonly kind: 'email-taken' };

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === '23505' && pgError.constraint === constraint;
}

/**
 * Registers a user: the UserRegistered event and the `users` row (inline
 * projection) commit in one transaction, so the read model's unique index on
 * the lower-cased email decides between concurrent registrations of one
 * address: exactly one commits, the others roll back with nothing written.
 */
export class RegisterHandler {
  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    private readonly passwords: Pick<PasswordHasher, 'hash'>,
    private readonly clock: Clock,
  ) {}

  async register(input: RegisterBody): Promise<RegisterResult> {
    // Hashed before the transaction, so it does not hold a connection for the scrypt time.
    const passwordHash = await this.passwords.hash(input.password);
    const userId = randomUUID();
    const events = userDecider.decide(
      {
        kind: 'RegisterUser',
        userId,
        email: input.email,
        name: input.name,
        passwordHash,
        registeredAt: new Date(this.clock()).toISOString(),
      },
      // A new id is a new stream: its state is the initial one, and 'no_stream' below makes sure.
      userDecider.initialState(),
    );
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await this.store.appendToStream(
        userStreamId(userId),
        'no_stream',
        events.map((event) => ({ type: event.type, data: event.data })),
        { client },
      );
      for (const event of events) await projectUserEvent(client, event);
      await client.query('commit');
      return { kind: 'registered', userId };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      if (isUniqueViolation(error, EMAIL_TAKEN_CONSTRAINT)) return { kind: 'email-taken' };
      throw error;
    } finally {
      client.release();
    }
  }
}
