import { observeHttpRequest } from '@shop/observability';
import type { FastifyInstance } from 'fastify';
import type { FaultInjector } from './fault-injection';
import { problem, PROBLEM_CONTENT_TYPE } from './problem';

/**
 * Every answered request, injected faults and 404s included, in
 * http_server_request_duration_seconds, labelled by route template
 * (`request.routeOptions.url`; undefined when no route matched).
 */
export function recordHttpMetrics(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', async (request, reply) => {
    observeHttpRequest({
      method: request.method,
      routeTemplate: request.routeOptions.url,
      statusCode: reply.statusCode,
      durationSeconds: reply.elapsedTime / 1000,
    });
  });
}

/** Requests that fault injection never touches: probes, metrics and the admin routes themselves. */
function exempt(url: string): boolean {
  return url.startsWith('/health/') || url.startsWith('/admin/') || url === '/metrics';
}

/** Applies the faults set through /admin/faults before a request reaches its route. */
export function injectFaults(fastify: FastifyInstance, faults: FaultInjector): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (exempt(request.url)) return;
    const decision = await faults.apply();
    if (decision.kind === 'pass') return;
    await reply
      .code(503)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .header('retry-after', '1')
      .send(problem(503, 'injected fault', `fault injection (${decision.kind})`, request.url));
  });
}
