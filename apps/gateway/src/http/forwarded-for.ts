import type { FastifyRequest } from 'fastify';

/**
 * The x-forwarded-for to send on: whatever the client sent, then the
 * address the gateway saw. Services behind the gateway trust only the last
 * entry (user-service throttles logins per address by it).
 */
export function forwardedFor(request: Pick<FastifyRequest, 'headers' | 'ip'>): string {
  const sent = request.headers['x-forwarded-for'];
  const previous = (Array.isArray(sent) ? sent.join(', ') : (sent ?? '')).trim();
  return previous ? `${previous}, ${request.ip}` : request.ip;
}
