import { userDecider } from './user.decider';
import type { UserCommand, UserEvent } from './user.events';

/** given(events) / when(command) / then(events or refusal), over plain values. */
function given(...events: UserEvent[]) {
  const state = events.reduce(userDecider.evolve, userDecider.initialState());
  return {
    when: (command: UserCommand) => ({
      then: (expected: UserEvent[]) => expect(userDecider.decide(command, state)).toEqual(expected),
      refusedWith: (reason: string) => expect(() => userDecider.decide(command, state)).toThrow(reason),
    }),
    state,
  };
}

const userId = '0b6f8a52-4c1e-4d5e-9a43-3f1f2f3c4d5e';
const register: UserCommand = {
  kind: 'RegisterUser',
  userId,
  email: 'Ada@Example.com',
  name: 'Ada',
  passwordHash: 'scrypt$hash',
  registeredAt: '2026-01-02T03:04:05.000Z',
};
const registered: UserEvent = {
  type: 'UserRegistered',
  data: {
    userId,
    email: 'Ada@Example.com',
    name: 'Ada',
    passwordHash: 'scrypt$hash',
    registeredAt: '2026-01-02T03:04:05.000Z',
  },
};

describe('user decider', () => {
  it('registers a new user with what the command carries (email as typed, time from the command)', () => {
    given().when(register).then([registered]);
  });

  it('refuses to register the same user twice', () => {
    given(registered).when(register).refusedWith('ALREADY_REGISTERED');
  });

  it('knows a registered user by its events', () => {
    expect(given(registered).state).toEqual({
      registered: true,
      userId,
      email: 'Ada@Example.com',
      name: 'Ada',
      passwordHash: 'scrypt$hash',
    });
    expect(given().state).toEqual({ registered: false });
  });
});
