import { Controller, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jsonBody, problemException } from '../http/problems';
import type { AccessToken } from './access-token';
import { clientIp } from './client-ip';
import { loginBody } from './login.dto';
import { LoginHandler } from './login.handler';

@Controller('auth')
export class LoginController {
  constructor(private readonly handler: LoginHandler) {}

  @Post('login')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  async login(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<AccessToken> {
    const result = await this.handler.login(jsonBody(loginBody, request), clientIp(request));
    switch (result.kind) {
      case 'signed-in':
        return result.token;
      case 'invalid-credentials':
        throw problemException(401, 'invalid credentials', 'the email or the password is wrong');
      case 'throttled':
        void reply.header('retry-after', String(result.retryAfterS));
        throw problemException(
          429,
          'too many login attempts',
          `too many failed logins; try again in ${result.retryAfterS} s`,
        );
      default: {
        const unknown: never = result;
        return unknown;
      }
    }
  }
}
