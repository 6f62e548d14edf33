import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, register } from 'prom-client';
import { principalOf } from '../auth/principal';
import { problemException } from '../http/problems';
import type { RateLimiter } from './rate-limiter';

/** The two limits: per client address (every route) and per user (routes with a token). */
export interface RateLimits {
  readonly perIp: RateLimiter;
  readonly perUser: RateLimiter;
}

export const RATE_LIMITS = Symbol('RATE_LIMITS');

const METRIC = 'gateway_rate_limited_total';

function rejections(): Counter<'scope'> {
  // One counter per process, however many gateways a test starts in it.
  return (
    (register.getSingleMetric(METRIC) as Counter<'scope'> | undefined) ??
    new Counter({ name: METRIC, help: 'Requests refused with 429, by limit', labelNames: ['scope'] })
  );
}

function enforce(limiter: RateLimiter, key: string, scope: 'ip' | 'user', context: ExecutionContext): true {
  const decision = limiter.take(key);
  if (decision.allowed) return true;
  rejections().inc({ scope });
  void context.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(decision.retryAfterSeconds));
  throw problemException(
    429,
    'too many requests',
    `rate limit exceeded (per ${scope === 'ip' ? 'client address' : 'user'}); retry after ${decision.retryAfterSeconds} s`,
  );
}

/**
 * Per client address, on every public route. The address is the socket's:
 * the gateway is the first hop, so a client-sent x-forwarded-for is not
 * believed.
 */
@Injectable()
export class IpRateLimitGuard implements CanActivate {
  constructor(@Inject(RATE_LIMITS) private readonly limits: RateLimits) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return enforce(this.limits.perIp, request.ip, 'ip', context);
  }
}

/** Per user (the token's `sub`); runs after BearerAuthGuard. */
@Injectable()
export class UserRateLimitGuard implements CanActivate {
  constructor(@Inject(RATE_LIMITS) private readonly limits: RateLimits) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = principalOf(context.switchToHttp().getRequest<FastifyRequest>());
    return enforce(this.limits.perUser, principal.userId, 'user', context);
  }
}
