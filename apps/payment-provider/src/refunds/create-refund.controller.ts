import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { parseBody, requireIdempotencyKey, requireJson } from '../http/request-checks';
import { createRefundSchema, type RefundResponse } from './create-refund.dto';
import { CreateRefundHandler } from './create-refund.handler';

/** POST /v1/charges/:chargeId/refunds: `{ amountCents }` with an Idempotency-Key. */
@Controller('v1/charges/:chargeId/refunds')
export class CreateRefundController {
  constructor(private readonly handler: CreateRefundHandler) {}

  @Post()
  @HttpCode(201)
  async create(
    @Param('chargeId') chargeId: string,
    @Headers('content-type') contentType: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RefundResponse> {
    requireJson(contentType);
    const key = requireIdempotencyKey(idempotencyKey);
    const request = parseBody(createRefundSchema, body);
    const outcome = await this.handler.execute(key, chargeId, request);
    void reply.header('idempotent-replayed', String(outcome.replayed));
    return outcome.body;
  }
}
