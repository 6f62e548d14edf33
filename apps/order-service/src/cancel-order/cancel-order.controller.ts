import {
  ConflictException,
  Controller,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import type pg from 'pg';
import { z } from 'zod';
import { problem } from '@shop/health';
import { userOf } from '../http';
import { OrderRefused } from '../order/order.events';
import { OrderStore } from '../order/order.store';
import { findOrder } from '../orders/order.view';
import { ORDER_POOL } from '../tokens';

/**
 * POST /orders/:orderId/cancel: a PENDING or CONFIRMED order of the caller
 * ends CANCELLED once its stock is back and its payment refunded. The answer
 * carries the status at that moment; asking again while it is in progress is
 * answered 202 again; a REJECTED or CANCELLED order → 409.
 */
@Controller('orders')
export class CancelOrderController {
  constructor(
    @Inject(ORDER_POOL) private readonly pool: pg.Pool,
    @Inject(OrderStore) private readonly orders: OrderStore,
  ) {}

  @Post(':orderId/cancel')
  @HttpCode(202)
  async cancel(@Headers('x-user-id') userHeader: string | undefined, @Param('orderId') orderId: string) {
    const userId = userOf(userHeader);
    const owned = z.uuid().safeParse(orderId).success ? await findOrder(this.pool, userId, orderId) : undefined;
    if (!owned) throw new NotFoundException(problem(404, 'order not found', `no order ${orderId}`));
    try {
      const decided = await this.orders.execute(
        orderId,
        { kind: 'Cancel', now: new Date().toISOString() },
        { correlationId: orderId, causationId: `cancel:${orderId}` },
      );
      const status = decided === 'duplicate' ? owned.status : decided.after.status;
      return { orderId, status };
    } catch (error) {
      if (error instanceof OrderRefused && error.reason === 'NOT_CANCELLABLE') {
        throw new ConflictException(problem(409, 'order cannot be cancelled', `the order is ${owned.status}`));
      }
      throw error;
    }
  }
}
