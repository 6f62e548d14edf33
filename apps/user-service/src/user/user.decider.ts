import type { Decider } from '@shop/event-store';
import { type UserCommand, type UserEvent, UserRefused } from './user.events';

/**
 * A user account. Registration happens once per stream; that an email is
 * unique across users is not this aggregate's to decide (it sees one stream):
 * the `users` read model's unique index, written in the same transaction,
 * enforces it (see register.handler.ts).
 */
export type UserState =
  | { readonly registered: false }
  | {
      readonly registered: true;
      readonly userId: string;
      readonly email: string;
      readonly name: string;
      readonly passwordHash: string;
    };

const initialState = (): UserState => ({ registered: false });

function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.kind) {
    case 'RegisterUser': {
      if (state.registered) throw new UserRefused('ALREADY_REGISTERED');
      const { userId, email, name, passwordHash, registeredAt } = command;
      return [{ type: 'UserRegistered', data: { userId, email, name, passwordHash, registeredAt } }];
    }
    default: {
      const unknown: never = command.kind;
      return unknown;
    }
  }
}

function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered': {
      const { userId, email, name, passwordHash } = event.data;
      return { registered: true, userId, email, name, passwordHash };
    }
    default: {
      const unknown: never = event.type;
      return unknown;
    }
  }
}

export const userDecider: Decider<UserState, UserCommand, UserEvent> = { decide, evolve, initialState };
