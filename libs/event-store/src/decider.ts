/**
 * A pure decider (docs/style.md rule 2): the domain of one aggregate as three
 * functions over plain values. No I/O, no clock: time and ids arrive in the
 * command.
 */
export interface DomainEvent {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface Decider<State, Command, Event extends DomainEvent> {
  /** The events a command causes in a state; throws (or returns none) to refuse it. */
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}
