import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** The user a request was authenticated as: the verified token's `sub`, and nothing a client sent. */
export interface Principal {
  readonly userId: string;
}

const principals = new WeakMap<FastifyRequest, Principal>();

export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  principals.set(request, principal);
}

/** Throws when the route forgot its guard: a route must never run as nobody. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error('no authenticated principal: the route lacks @Authenticated()');
  return principal;
}

/** The authenticated user's id, in a handler behind @Authenticated(). */
export const UserId = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string =>
    principalOf(context.switchToHttp().getRequest<FastifyRequest>()).userId,
);
