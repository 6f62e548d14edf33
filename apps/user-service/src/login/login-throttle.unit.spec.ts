import { LoginThrottle, type ThrottleDecision } from './login-throttle';

const WINDOW_MS = 300_000;
const limits = { maxFailuresPerEmail: 5, maxFailuresPerIp: 20, windowMs: WINDOW_MS };

/** A throttle on a clock the test moves by hand. */
function throttleAt(start = 1_000_000, maxKeys?: number) {
  let now = start;
  const throttle = new LoginThrottle(limits, () => now, maxKeys);
  return {
    throttle,
    advance: (ms: number) => {
      now += ms;
    },
    /** A login that fails: allowed, never released. */
    fail: (email: string, ip: string): ThrottleDecision => throttle.attempt(email, ip),
  };
}

const retryAfter = (decision: ThrottleDecision) => (decision.allowed ? undefined : decision.retryAfterS);

describe('login throttle', () => {
  it('allows 5 failed attempts per email in the window, then refuses with the time until one expires', () => {
    const { fail, advance } = throttleAt();
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(fail('ada@example.com', `10.0.0.${attempt}`).allowed).toBe(true);
      advance(60_000);
    }
    // Failures at 0, 60, 120, 180 and 240 s; now is 300 s: the first has just left the window.
    expect(fail('ada@example.com', '10.0.0.9').allowed).toBe(true);
    advance(10_000);
    // 60..300 s: five in the window; the one at 60 s leaves at 360 s, 50 s from now.
    expect(retryAfter(fail('ada@example.com', '10.0.0.9'))).toBe(50);
    expect(fail('bob@example.com', '10.0.0.9').allowed).toBe(true);
  });

  it('allows attempts again once the window has passed', () => {
    const { fail, advance } = throttleAt();
    for (let attempt = 0; attempt < 5; attempt++) fail('ada@example.com', '10.0.0.1');
    expect(retryAfter(fail('ada@example.com', '10.0.0.1'))).toBe(300);
    advance(WINDOW_MS - 1);
    expect(retryAfter(fail('ada@example.com', '10.0.0.1'))).toBe(1);
    advance(1);
    expect(fail('ada@example.com', '10.0.0.1').allowed).toBe(true);
  });

  it('allows 20 failed attempts per IP across emails, and other IPs are not affected', () => {
    const { fail } = throttleAt();
    for (let attempt = 0; attempt < 20; attempt++) {
      expect(fail(`user${attempt}@example.com`, '203.0.113.7').allowed).toBe(true);
    }
    expect(retryAfter(fail('fresh@example.com', '203.0.113.7'))).toBe(300);
    expect(fail('fresh@example.com', '203.0.113.8').allowed).toBe(true);
  });

  it('does not count successful logins', () => {
    const { throttle } = throttleAt();
    for (let attempt = 0; attempt < 50; attempt++) {
      const decision = throttle.attempt('ada@example.com', '10.0.0.1');
      expect(decision.allowed).toBe(true);
      if (decision.allowed) decision.release();
    }
    expect(throttle.size).toBe(0);
  });

  it('counts attempts still running, so a concurrent burst cannot exceed the limit', () => {
    const { throttle } = throttleAt();
    const burst = Array.from({ length: 10 }, () => throttle.attempt('ada@example.com', '10.0.0.1'));
    expect(burst.filter((decision) => decision.allowed)).toHaveLength(5);
    // One of the running attempts turns out right: its slot is free again, once.
    const first = burst[0];
    if (!first?.allowed) throw new Error('the first attempt should have been allowed');
    first.release();
    first.release();
    expect(throttle.attempt('ada@example.com', '10.0.0.1').allowed).toBe(true);
    expect(throttle.attempt('ada@example.com', '10.0.0.1').allowed).toBe(false);
  });

  it('forgets expired keys, and bounds how many it remembers', () => {
    const bounded = throttleAt(0, 100);
    for (let attempt = 0; attempt < 250; attempt++) bounded.fail(`user${attempt}@example.com`, `10.0.${attempt}.1`);
    expect(bounded.throttle.size).toBeLessThanOrEqual(100);
    const { fail, advance, throttle } = throttleAt();
    for (let attempt = 0; attempt < 30; attempt++) fail(`user${attempt}@example.com`, '10.0.0.1');
    expect(throttle.size).toBeGreaterThan(0);
    advance(WINDOW_MS);
    fail('late@example.com', '10.0.0.2');
    expect(throttle.size).toBe(2);
  });
});
