import { BadRequestException, Controller, Get, Headers, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import type pg from 'pg';
import { z } from 'zod';
import { problem } from '@shop/health';
import { parseOr400, userOf } from '../http';
import { ORDER_POOL } from '../tokens';
import { decodeCursor, findOrder, listOrders, type OrderView } from './order.view';

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(500).optional(),
});

/** GET /orders/:orderId and GET /orders, from the orders read model (read your writes). */
@Controller('orders')
export class OrdersController {
  constructor(@Inject(ORDER_POOL) private readonly pool: pg.Pool) {}

  @Get(':orderId')
  async one(
    @Headers('x-user-id') userHeader: string | undefined,
    @Param('orderId') orderId: string,
  ): Promise<OrderView> {
    const userId = userOf(userHeader);
    const order = z.uuid().safeParse(orderId).success ? await findOrder(this.pool, userId, orderId) : undefined;
    if (!order) throw new NotFoundException(problem(404, 'order not found', `no order ${orderId}`));
    return order;
  }

  @Get()
  async list(@Headers('x-user-id') userHeader: string | undefined, @Query() query: unknown) {
    const userId = userOf(userHeader);
    const { limit, cursor } = parseOr400(ListQuery, query, 'query');
    const decoded = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !decoded) {
      throw new BadRequestException({
        ...problem(400, 'invalid request', 'the cursor is not valid'),
        errors: [{ path: 'cursor', message: 'not a cursor this service issued' }],
      });
    }
    return listOrders(this.pool, userId, limit, decoded);
  }
}
