import { Controller, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX } from '../http/api';
import { forwardedFor } from '../http/forwarded-for';
import { jsonBody } from '../http/problems';
import { IpRateLimitGuard } from '../rate-limit/rate-limit.guard';
import { forward } from '../upstream/upstream-reply';
import { UPSTREAMS, type Upstreams } from '../upstream/upstreams';
import { LoginBody, RegisterBody } from './auth.schemas';

/**
 * POST /api/v1/auth/register and /login → user-service, made once each (a
 * retried login could count twice against its throttle; a retried register
 * could answer 409 to the account it just created).
 */
@Controller(`${API_PREFIX}/auth`)
@UseGuards(IpRateLimitGuard)
export class AuthController {
  constructor(@Inject(UPSTREAMS) private readonly upstreams: Upstreams) {}

  @Post('register')
  register(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = jsonBody(RegisterBody, request);
    return forward(reply, request.url, this.upstreams.auth, {
      method: 'POST',
      path: '/auth/register',
      headers: { 'x-forwarded-for': forwardedFor(request) },
      body,
    });
  }

  @Post('login')
  login(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = jsonBody(LoginBody, request);
    return forward(reply, request.url, this.upstreams.auth, {
      method: 'POST',
      path: '/auth/login',
      headers: { 'x-forwarded-for': forwardedFor(request) },
      body,
    });
  }
}
