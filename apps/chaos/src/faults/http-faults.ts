import type { Fault } from './fault';
import type { Service, StackTarget } from './target';

/** The body of PUT /admin/faults (docs/contract.md, "Fault injection"). */
export interface HttpFaults {
  readonly latencyMs?: number;
  readonly errorRate?: number;
  readonly hang?: boolean;
  /** payment-provider only. */
  readonly declineRate?: number;
  /** payment-provider only. */
  readonly outage?: boolean;
}

async function explain(response: Response, what: string): Promise<Error> {
  const body = await response.text().catch(() => '');
  const hint =
    response.status === 401
      ? ' (the chaos token was refused: set CHAOS_TOKEN or check .run/chaos-token)'
      : response.status === 404
        ? ' (fault injection is off: the stack runs without CHAOS_ENABLED=true)'
        : '';
  return new Error(`${what}: ${response.status}${hint} ${body.slice(0, 200)}`);
}

/**
 * Faults on a service's own inbound HTTP requests, set through its
 * /admin/faults route with the chaos token; the rollback clears them
 * (DELETE). A PUT replaces whatever that service had, so one service takes
 * one http fault at a time.
 */
export function httpFault(
  target: Pick<StackTarget, 'url' | 'chaosToken'>,
  service: Service,
  faults: HttpFaults,
  fetchImpl: typeof fetch = fetch,
): Fault {
  const url = `${target.url(service)}/admin/faults`;
  const headers = { authorization: `Bearer ${target.chaosToken}` };
  return {
    kind: 'http_faults',
    description: `${service}: PUT /admin/faults ${JSON.stringify(faults)}`,
    async inject() {
      if (!target.chaosToken) throw new Error('no chaos token: set CHAOS_TOKEN or start the stack with npm start');
      const response = await fetchImpl(url, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(faults),
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status !== 200) throw await explain(response, `PUT ${url}`);
      await response.body?.cancel();
    },
    async rollback() {
      const response = await fetchImpl(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(5_000) });
      if (response.status >= 300) throw await explain(response, `DELETE ${url}`);
      await response.body?.cancel();
    },
  };
}
