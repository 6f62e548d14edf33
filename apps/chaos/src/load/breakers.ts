/**
 * Breaker states as a service shows them in its readiness details
 * (docs/contract.md, Operations): `details.breakers` maps each policy to its
 * snapshot `{ state, stats }`, beside Terminus' own `status` field. A 503
 * readiness answer is problem+json that still carries `details`, so it is
 * read the same way.
 */
export type BreakerStates = Readonly<Record<string, string>>;

/** policy → state from a /health/ready body; undefined when the body has no breaker details. */
export function breakerStates(body: unknown): BreakerStates | undefined {
  const breakers = (body as { details?: { breakers?: unknown } } | undefined)?.details?.breakers;
  if (typeof breakers !== 'object' || breakers === null) return undefined;
  const states: Record<string, string> = {};
  for (const [policy, snapshot] of Object.entries(breakers)) {
    const state = (snapshot as { state?: unknown } | null)?.state;
    if (typeof state === 'string') states[policy] = state;
  }
  return states;
}

/** Reads one service's breakers; "unreachable" when it does not answer in time or shows none. */
export async function readBreakers(baseUrl: string, timeoutMs: number): Promise<BreakerStates | 'unreachable'> {
  try {
    const response = await fetch(`${baseUrl.replace(/\/$/, '')}/health/ready`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return breakerStates(await response.json()) ?? 'unreachable';
  } catch {
    return 'unreachable';
  }
}

/** "order-service closed, inventory-service open" (or "unreachable", or "none"). */
export function formatBreakers(states: BreakerStates | 'unreachable' | undefined): string {
  if (states === undefined) return '…';
  if (states === 'unreachable') return 'unreachable';
  const entries = Object.entries(states);
  return entries.length === 0 ? 'none' : entries.map(([policy, state]) => `${policy} ${state}`).join(', ');
}
