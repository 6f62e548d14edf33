/**
 * The patterns this project claims, each of which can be switched off to
 * watch the test or experiment that guards it fail (docs/patterns-proven.md).
 * UNSAFE_REMOVE_PATTERNS=inbox,compensation,... removes them; it is read at
 * the moment a pattern acts (the breaker and the bulkhead: when a policy is
 * created), so a test can remove one for a single case.
 * A production start with any pattern removed refuses to run (the shared
 * service configuration of @shop/health checks it).
 */
export const PATTERNS = [
  'breaker',
  'bulkhead',
  'stale-fallback',
  'outbox',
  'inbox',
  'idempotency-key',
  'compensation',
] as const;

export type Pattern = (typeof PATTERNS)[number];

export const REMOVE_PATTERNS_ENV = 'UNSAFE_REMOVE_PATTERNS';

/** The patterns the environment removes; an unknown name is an error, not a silent no-op. */
export function removedPatterns(env: NodeJS.ProcessEnv = process.env): Set<Pattern> {
  const listed = (env[REMOVE_PATTERNS_ENV] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = listed.filter((name) => !(PATTERNS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `${REMOVE_PATTERNS_ENV} names unknown patterns: ${unknown.join(', ')} (known: ${PATTERNS.join(', ')})`,
    );
  }
  return new Set(listed as Pattern[]);
}

export function isRemoved(pattern: Pattern, env: NodeJS.ProcessEnv = process.env): boolean {
  return env[REMOVE_PATTERNS_ENV] !== undefined && removedPatterns(env).has(pattern);
}

/** Runs `work` with `pattern` removed (for the tests that prove a pattern by removing it). */
export async function withPatternRemoved<T>(pattern: Pattern, work: () => Promise<T>): Promise<T> {
  const before = process.env[REMOVE_PATTERNS_ENV];
  process.env[REMOVE_PATTERNS_ENV] = [before, pattern].filter(Boolean).join(',');
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env[REMOVE_PATTERNS_ENV];
    else process.env[REMOVE_PATTERNS_ENV] = before;
  }
}
