import type { RecordedEvent } from '@shop/event-store';
import { z } from 'zod';

/**
 * Domain events of a user: private to user-service. The password hash is part
 * of the event because the `users` read model (and login) must be rebuildable
 * from the events alone; the events table is as secret as the users table.
 */
export const userRegisteredData = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string(),
  passwordHash: z.string(),
  registeredAt: z.iso.datetime(),
});

export type UserEvent = { type: 'UserRegistered'; data: z.infer<typeof userRegisteredData> };

export type UserCommand = {
  kind: 'RegisterUser';
  userId: string;
  email: string;
  name: string;
  passwordHash: string;
  /** ISO timestamp: the decider has no clock. */
  registeredAt: string;
};

export type UserRefusal = 'ALREADY_REGISTERED';

export class UserRefused extends Error {
  constructor(readonly reason: UserRefusal) {
    super(reason);
    this.name = 'UserRefused';
  }
}

export const userStreamId = (userId: string): string => `user-${userId}`;

/**
 * A stored event as a domain event, checked against its schema. Upcasters for
 * later schema versions go here, keyed by `schemaVersion`.
 */
export function toUserEvent(event: RecordedEvent): UserEvent | undefined {
  switch (event.type) {
    case 'UserRegistered':
      return { type: 'UserRegistered', data: userRegisteredData.parse(event.data) };
    default:
      return undefined;
  }
}
