import { type Clock, systemClock } from '../clock';

export interface ThrottleLimits {
  readonly maxFailuresPerEmail: number;
  readonly maxFailuresPerIp: number;
  readonly windowMs: number;
}

export type ThrottleDecision =
  | {
      readonly allowed: true;
      /** The attempt did not fail (it succeeded, or never got to check a password): it no longer counts. */
      release(): void;
    }
  | { readonly allowed: false; readonly retryAfterS: number };

/**
 * Failed logins per email and per client IP in a sliding window, in memory
 * (one process; a restart forgets). An attempt counts as a failure from the
 * moment it is allowed until it is known to have succeeded, so a burst of
 * concurrent guesses cannot all slip in before the first one fails.
 */
export class LoginThrottle {
  /** Times (ms) of failed or still running attempts, per `email:` or `ip:` key. */
  private readonly failures = new Map<string, number[]>();
  private lastSweep: number;

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly clock: Clock = systemClock,
    /** Bounds memory when someone sprays addresses: beyond it the oldest keys are forgotten. */
    private readonly maxKeys = 100_000,
  ) {
    this.lastSweep = clock();
  }

  /** `email` must already be normalized (lower case). */
  attempt(email: string, ip: string): ThrottleDecision {
    const now = this.clock();
    const keys: ReadonlyArray<readonly [string, number]> = [
      [`email:${email}`, this.limits.maxFailuresPerEmail],
      [`ip:${ip}`, this.limits.maxFailuresPerIp],
    ];
    this.sweep(now, keys.length);
    let waitMs = 0;
    for (const [key, limit] of keys) {
      const times = this.recent(key, now);
      // Under the limit again once the oldest failure that keeps it full has left the window.
      const oldest = times[times.length - limit];
      if (oldest !== undefined) waitMs = Math.max(waitMs, oldest + this.limits.windowMs - now);
    }
    if (waitMs > 0) return { allowed: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
    for (const [key] of keys) this.failures.set(key, [...(this.failures.get(key) ?? []), now]);
    let settled = false;
    return {
      allowed: true,
      release: () => {
        if (settled) return;
        settled = true;
        for (const [key] of keys) this.forget(key, now);
      },
    };
  }

  /** How many keys are remembered (for tests of the memory bound). */
  get size(): number {
    return this.failures.size;
  }

  private recent(key: string, now: number): number[] {
    const times = (this.failures.get(key) ?? []).filter((time) => time + this.limits.windowMs > now);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  private forget(key: string, time: number): void {
    const times = this.failures.get(key);
    if (!times) return;
    const index = times.indexOf(time);
    if (index >= 0) times.splice(index, 1);
    if (times.length === 0) this.failures.delete(key);
  }

  /** Drops expired keys once per window, and the oldest keys when `room` new ones would not fit. */
  private sweep(now: number, room: number): void {
    const full = () => this.failures.size + room > this.maxKeys;
    if (now - this.lastSweep < this.limits.windowMs && !full()) return;
    this.lastSweep = now;
    for (const key of [...this.failures.keys()]) this.recent(key, now);
    // Still full of live keys: forget the oldest (a Map iterates in insertion order).
    for (const key of this.failures.keys()) {
      if (!full()) break;
      this.failures.delete(key);
    }
  }
}
