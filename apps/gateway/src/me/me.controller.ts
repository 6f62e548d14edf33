import { Controller, Get, Inject, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated } from '../auth/bearer-auth.guard';
import { UserId } from '../auth/principal';
import { API_PREFIX } from '../http/api';
import { forwardedFor } from '../http/forwarded-for';
import { IpRateLimitGuard } from '../rate-limit/rate-limit.guard';
import { forward } from '../upstream/upstream-reply';
import { UPSTREAMS, type Upstreams } from '../upstream/upstreams';

/** GET /api/v1/me → user-service GET /users/{the token's sub}. */
@Controller(API_PREFIX)
@UseGuards(IpRateLimitGuard)
export class MeController {
  constructor(@Inject(UPSTREAMS) private readonly upstreams: Upstreams) {}

  @Get('me')
  @Authenticated()
  me(@UserId() userId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return forward(reply, request.url, this.upstreams.users, {
      method: 'GET',
      path: `/users/${encodeURIComponent(userId)}`,
      headers: { 'x-forwarded-for': forwardedFor(request) },
    });
  }
}
