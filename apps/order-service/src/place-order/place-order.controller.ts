import { Body, Controller, Headers, Inject, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { parseOr400, userOf } from '../http';
import { IdempotencyKey, PlaceOrderBody } from './place-order.dto';
import { PlaceOrderHandler } from './place-order.handler';

/** POST /orders (behind the gateway's POST /api/v1/orders). */
@Controller('orders')
export class PlaceOrderController {
  constructor(@Inject(PlaceOrderHandler) private readonly handler: PlaceOrderHandler) {}

  @Post()
  async place(
    @Headers('x-user-id') userHeader: string | undefined,
    @Headers('idempotency-key') keyHeader: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ orderId: string; status: string }> {
    const userId = userOf(userHeader);
    const key = parseOr400(IdempotencyKey, keyHeader, 'Idempotency-Key header');
    const order = parseOr400(PlaceOrderBody, body, 'body');
    const result = await this.handler.place(userId, key, order, body);
    void reply.status(result.created ? 202 : 200).header('location', `/api/v1/orders/${result.orderId}`);
    return { orderId: result.orderId, status: result.status };
  }
}
