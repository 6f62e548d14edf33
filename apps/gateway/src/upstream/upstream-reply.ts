import { HttpStatus } from '@nestjs/common';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from '@shop/health';
import { type PolicyResult, serviceUnavailable } from '@shop/resilience';
import type { FastifyReply } from 'fastify';
import { problemException } from '../http/problems';
import type { Upstream, UpstreamRequest, UpstreamResponse } from './upstream';

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Problem).title === 'string' &&
    typeof (body as Problem).status === 'number'
  );
}

/**
 * What the client gets for a service's answer: its status, body, Location
 * and Retry-After. A 4xx stays the service's problem document, with only
 * `instance` set to the path the client asked for (the service's own path
 * means nothing outside); a 4xx without one gets a plain problem of that
 * status. A stale answer from the fallback cache says so (`x-cache: stale`,
 * `age`). 5xx never get here: they are failures of the policy.
 */
export function answerFor(result: PolicyResult<UpstreamResponse>, instance: string): Answer {
  const { status, headers, body } = result.value;
  const stale: Record<string, string> = result.stale ? { 'x-cache': 'stale', age: String(result.ageSeconds) } : {};
  if (status < 400) {
    return { status, headers: { ...headers, ...stale, 'content-type': 'application/json' }, body };
  }
  const document = isProblem(body)
    ? { ...body, instance }
    : problem(status, HttpStatus[status]?.replaceAll('_', ' ').toLowerCase() ?? 'error', undefined, instance);
  return { status, headers: { ...headers, ...stale, 'content-type': PROBLEM_CONTENT_TYPE }, body: document };
}

/**
 * A failed policy call (breaker open, bulkhead full, timeout, the service
 * failing) as the contract's 503 + Retry-After problem, naming the service
 * but none of its addresses. Any other error is returned unchanged (the
 * filter answers it with a bare 500).
 */
export function unavailableProblem(
  error: unknown,
  service: string,
): { retryAfterSeconds: number; error: Error } | undefined {
  const unavailable = serviceUnavailable(error);
  if (!unavailable) return undefined;
  return {
    retryAfterSeconds: unavailable.retryAfterSeconds,
    error: problemException(503, 'service unavailable', `${service} is unavailable; try again later`),
  };
}

/** Calls the service through its policy and sends the client what it answered (or 503 + Retry-After). */
export async function forward(
  reply: FastifyReply,
  instance: string,
  upstream: Upstream,
  request: UpstreamRequest,
  cacheKey?: string,
): Promise<void> {
  let result: PolicyResult<UpstreamResponse>;
  try {
    result = await upstream.call(request, cacheKey);
  } catch (error) {
    const unavailable = unavailableProblem(error, upstream.service);
    if (!unavailable) throw error;
    void reply.header('retry-after', String(unavailable.retryAfterSeconds));
    throw unavailable.error;
  }
  const answer = answerFor(result, instance);
  void reply.status(answer.status).headers(answer.headers).send(answer.body);
}
