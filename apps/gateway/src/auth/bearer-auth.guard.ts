import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemException } from '../http/problems';
import { UserRateLimitGuard } from '../rate-limit/rate-limit.guard';
import { setPrincipal } from './principal';
import { TokenVerifier } from './token-verifier';

/** How long a client waits before asking again when the keys could not be fetched yet. */
const KEYS_RETRY_AFTER_S = 5;

/** `Authorization: Bearer <token>` (scheme case-insensitive), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Lets a request through only with a valid access token, and records its
 * `sub` as the request's principal: the only source of the x-user-id the
 * gateway sends on (a client's own x-user-id header is never forwarded).
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(TokenVerifier) private readonly tokens: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized(reply, 'a bearer token is required');
    const check = await this.tokens.check(token);
    switch (check.kind) {
      case 'valid':
        setPrincipal(request, { userId: check.userId });
        return true;
      case 'invalid':
        throw unauthorized(reply, check.detail);
      case 'keys-unavailable':
        // Never fetched a key (user-service down since start): we cannot tell a good token from a bad one.
        void reply.header('retry-after', String(KEYS_RETRY_AFTER_S));
        throw problemException(503, 'service unavailable', 'tokens cannot be verified yet; try again later');
      default: {
        const never: never = check;
        throw new Error(`unexpected token check ${JSON.stringify(never)}`);
      }
    }
  }
}

function unauthorized(reply: FastifyReply, detail: string) {
  void reply.header('www-authenticate', 'Bearer');
  return problemException(401, 'unauthorized', detail);
}

/** A route for signed-in users: a valid token, then the per-user rate limit. */
export const Authenticated = () => applyDecorators(UseGuards(BearerAuthGuard, UserRateLimitGuard));
