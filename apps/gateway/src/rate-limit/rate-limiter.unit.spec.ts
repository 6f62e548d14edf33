import { RateLimiter } from './rate-limiter';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const takeTimes = (limiter: RateLimiter, key: string, times: number) =>
  Array.from({ length: times }, () => limiter.take(key).allowed);

describe('RateLimiter (a token bucket per key)', () => {
  it('allows a burst of `limit` requests, then refuses with the seconds until the next token', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, now: clock.now });

    expect(takeTimes(limiter, 'a', 3)).toEqual([true, true, true]);
    // 3 per minute: one token every 20 s.
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 20 });
  });

  it('refills at `limit` per window, one token at a time', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, now: clock.now });
    takeTimes(limiter, 'a', 3);

    clock.advance(19_999);
    expect(limiter.take('a').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.take('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('never holds more than `limit` tokens, however long a key was idle', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, now: clock.now });
    takeTimes(limiter, 'a', 3);

    clock.advance(60 * 60_000);

    expect(takeTimes(limiter, 'a', 4)).toEqual([true, true, true, false]);
  });

  it('counts Retry-After from what has refilled already, rounded up and never below 1 s', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, now: clock.now });
    takeTimes(limiter, 'a', 3);

    clock.advance(10_000);
    expect(limiter.take('a').retryAfterSeconds).toBe(10);
    clock.advance(9_500);
    expect(limiter.take('a').retryAfterSeconds).toBe(1);

    const perSecond = new RateLimiter({ limit: 60, now: clock.now });
    takeTimes(perSecond, 'b', 60);
    clock.advance(999);
    expect(perSecond.take('b')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('does not charge a refused request: the wait it was told is the wait it gets', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 3, now: clock.now });
    takeTimes(limiter, 'a', 3);
    const { retryAfterSeconds } = limiter.take('a');
    for (let refused = 0; refused < 10; refused++) {
      clock.advance(1_000);
      expect(limiter.take('a').allowed).toBe(false);
    }

    clock.advance(retryAfterSeconds * 1000 - 10_000);

    expect(limiter.take('a').allowed).toBe(true);
  });

  it('keeps a bucket per key', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 2, now: clock.now });

    expect(takeTimes(limiter, 'alice', 3)).toEqual([true, true, false]);
    expect(takeTimes(limiter, 'bob', 2)).toEqual([true, true]);
    expect(limiter.size).toBe(2);
  });

  it('honours another window', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 5, windowMs: 1_000, now: clock.now });
    takeTimes(limiter, 'a', 5);

    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(200);
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('remembers at most `maxKeys`, forgetting the least recently seen (which starts afresh)', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 1, maxKeys: 2, now: clock.now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
    // Seen again (and refused): now 'b' is the least recently seen.
    expect(limiter.take('a').allowed).toBe(false);

    expect(limiter.take('c').allowed).toBe(true);

    expect(limiter.size).toBe(2);
    expect(limiter.take('a').allowed).toBe(false);
    // 'b' was forgotten, so it has a full bucket again; that forgets 'c', the least recently seen now.
    expect(limiter.take('b').allowed).toBe(true);
    expect(limiter.size).toBe(2);
    expect(limiter.take('c').allowed).toBe(true);
  });
});
