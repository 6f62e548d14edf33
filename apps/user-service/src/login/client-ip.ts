import type { FastifyRequest } from 'fastify';

/**
 * The client's address for throttling. user-service binds the loopback or
 * the internal network, so every request comes through the gateway, which
 * sets x-forwarded-for; the last entry is the address the gateway itself saw
 * (entries before it could have been sent by the client). Without the header
 * (a direct call inside the network), the socket's address.
 */
export function clientIp(request: Pick<FastifyRequest, 'headers' | 'ip'>): string {
  const header = request.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header.at(-1) : header;
  const last = value
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .at(-1);
  return last ?? request.ip;
}
