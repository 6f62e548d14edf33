/**
 * A fault is something an experiment does to the stack and can undo.
 * `inject()` does it; `rollback()` undoes it (or, for a one-shot fault such
 * as kill -9, waits until the stack has healed it). A rollback is safe to run
 * more than once and after an `inject()` that failed half-way.
 */
export interface Fault {
  /** The experiment-file function that made it, e.g. `http_faults`. */
  readonly kind: string;
  /** One line for the report: what it does to what. */
  readonly description: string;
  inject(): Promise<void>;
  rollback(): Promise<void>;
}

export interface RollbackOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly at: number;
}

/**
 * The rollbacks of one run. A fault's rollback is registered before the
 * fault is injected, so a failure or a Ctrl-C at any point afterwards still
 * undoes it; each rollback runs at most once, newest first.
 */
export class RollbackRegistry {
  private readonly entries: Array<{ name: string; fault: Fault; done: Promise<RollbackOutcome> | undefined }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  register(name: string, fault: Fault): void {
    if (this.entries.some((entry) => entry.name === name))
      throw new Error(`a fault named "${name}" is already registered`);
    this.entries.push({ name, fault, done: undefined });
  }

  has(name: string): boolean {
    return this.entries.some((entry) => entry.name === name);
  }

  /** Whether the named fault is registered and its rollback has not started. */
  isActive(name: string): boolean {
    return this.entries.some((entry) => entry.name === name && entry.done === undefined);
  }

  /** Rolls back one fault (once; a second call returns the first outcome). */
  rollback(name: string): Promise<RollbackOutcome> {
    const entry = this.entries.find((candidate) => candidate.name === name);
    if (!entry) return Promise.reject(new Error(`no fault named "${name}" was injected`));
    entry.done ??= entry.fault.rollback().then(
      () => ({ name, ok: true, at: this.now() }),
      (error: unknown) => ({
        name,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        at: this.now(),
      }),
    );
    return entry.done;
  }

  /** Every rollback not run yet, newest first; one failing does not stop the others. */
  async rollbackAll(): Promise<RollbackOutcome[]> {
    const outcomes: RollbackOutcome[] = [];
    for (const entry of [...this.entries].reverse()) {
      if (entry.done) continue;
      outcomes.push(await this.rollback(entry.name));
    }
    return outcomes;
  }
}
