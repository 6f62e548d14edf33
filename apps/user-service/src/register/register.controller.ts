import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { jsonBody, problemException } from '../http/problems';
import { registerBody } from './register.dto';
import { RegisterHandler } from './register.handler';

@Controller('auth')
export class RegisterController {
  constructor(private readonly handler: RegisterHandler) {}

  @Post('register')
  @HttpCode(201)
  async register(@Req() request: FastifyRequest): Promise<{ userId: string }> {
    const result = await this.handler.register(jsonBody(registerBody, request));
    if (result.kind === 'email-taken') {
      throw problemException(409, 'email already registered', 'an account with this email already exists');
    }
    return { userId: result.userId };
  }
}
