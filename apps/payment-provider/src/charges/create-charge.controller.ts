import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { parseBody, requireIdempotencyKey, requireJson } from '../http/request-checks';
import { type ChargeResponse, createChargeSchema } from './create-charge.dto';
import { CreateChargeHandler } from './create-charge.handler';

/** POST /v1/charges: `{ reference, amountCents, currency, token }` with an Idempotency-Key. */
@Controller('v1/charges')
export class CreateChargeController {
  constructor(private readonly handler: CreateChargeHandler) {}

  @Post()
  @HttpCode(201)
  async create(
    @Headers('content-type') contentType: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ChargeResponse> {
    requireJson(contentType);
    const key = requireIdempotencyKey(idempotencyKey);
    const request = parseBody(createChargeSchema, body);
    const outcome = await this.handler.execute(key, request);
    void reply.header('idempotent-replayed', String(outcome.replayed));
    return outcome.body;
  }
}
