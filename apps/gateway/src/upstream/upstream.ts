import { httpExchange, type Policy, type PolicyResult } from '@shop/resilience';

/** What a service answered, as the gateway passes it on. */
export interface UpstreamResponse {
  readonly status: number;
  /** Only the headers a client may see: `location` and `retry-after`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; undefined when there was none (or it was not JSON, on a 4xx). */
  readonly body: unknown;
}

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST';
  /** Starts with `/`; every parameter in it is already encoded (encodeURIComponent). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON when given. */
  readonly body?: unknown;
}

/**
 * A 5xx, or a 2xx that is not JSON: the service is unwell. Thrown, so the
 * breaker counts it and an idempotent call is retried. A 4xx is an answer
 * (a definitive "no"), returned as a value: it never opens a breaker.
 */
export class UpstreamServerError extends Error {
  override readonly name = 'UpstreamServerError';

  constructor(
    readonly service: string,
    readonly status: number,
    reason = `answered ${status}`,
  ) {
    super(`${service} ${reason}`);
  }
}

const PASSED_ON_HEADERS = ['location', 'retry-after'] as const;

/**
 * One service behind one @shop/resilience policy: every call goes through
 * its bulkhead, breaker and timeout (and its retries and fallback cache, if
 * the policy has them).
 */
export class Upstream {
  private readonly baseUrl: string;

  constructor(
    readonly service: string,
    baseUrl: string,
    private readonly policy: Policy<UpstreamResponse>,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** `cacheKey` names the answer in the policy's fallback cache (if it has one). */
  call(
    request: UpstreamRequest,
    cacheKey = `${request.method} ${request.path}`,
  ): Promise<PolicyResult<UpstreamResponse>> {
    return this.policy.execute(cacheKey, (signal) => this.exchange(request, signal));
  }

  private async exchange(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    const withBody = request.body !== undefined;
    const response = await httpExchange(`${this.baseUrl}${request.path}`, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(withBody ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      },
      ...(withBody ? { body: JSON.stringify(request.body) } : {}),
      signal,
    });
    const { status, text } = response;
    if (status >= 500) throw new UpstreamServerError(this.service, status);
    const body = text ? parseJson(text) : undefined;
    if (status >= 200 && status < 300 && text && body === undefined) {
      throw new UpstreamServerError(this.service, status, 'answered something that is not JSON');
    }
    const headers: Record<string, string> = {};
    for (const name of PASSED_ON_HEADERS) {
      const value = response.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    return { status, headers, body };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
