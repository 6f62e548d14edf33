import { Controller, Get, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated } from '../auth/bearer-auth.guard';
import { UserId } from '../auth/principal';
import { API_PREFIX } from '../http/api';
import { forwardedFor } from '../http/forwarded-for';
import { jsonBody, parseOr400, problemException } from '../http/problems';
import { IpRateLimitGuard } from '../rate-limit/rate-limit.guard';
import { forward } from '../upstream/upstream-reply';
import { UPSTREAMS, type Upstreams } from '../upstream/upstreams';
import { IdempotencyKey, ListOrdersQuery, OrderIdParam, PlaceOrderBody } from './orders.schemas';

function checkOrderId(orderId: string): string {
  if (!OrderIdParam.safeParse(orderId).success) throw problemException(404, 'order not found', 'no order has this id');
  return orderId;
}

/**
 * The order routes → order-service, always as the token's user: x-user-id is
 * set from the verified `sub` and from nothing else, and order-service
 * scopes every read and cancel by it (someone else's order is a 404).
 * Requests are validated here, so a malformed one never reaches it.
 */
@Controller(`${API_PREFIX}/orders`)
@UseGuards(IpRateLimitGuard)
export class OrdersController {
  constructor(@Inject(UPSTREAMS) private readonly upstreams: Upstreams) {}

  private headers(userId: string, request: FastifyRequest): Record<string, string> {
    return { 'x-user-id': userId, 'x-forwarded-for': forwardedFor(request) };
  }

  /** Retried on failure: the Idempotency-Key makes a second attempt return the first one's order. */
  @Post()
  @Authenticated()
  place(@UserId() userId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = jsonBody(PlaceOrderBody, request);
    const key = parseOr400(IdempotencyKey, request.headers['idempotency-key'], 'Idempotency-Key header');
    return forward(reply, request.url, this.upstreams.orders, {
      method: 'POST',
      path: '/orders',
      headers: { ...this.headers(userId, request), 'idempotency-key': key },
      body,
    });
  }

  @Get(':orderId')
  @Authenticated()
  one(
    @UserId() userId: string,
    @Param('orderId') orderId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return forward(reply, request.url, this.upstreams.orders, {
      method: 'GET',
      path: `/orders/${checkOrderId(orderId)}`,
      headers: this.headers(userId, request),
    });
  }

  @Get()
  @Authenticated()
  list(@UserId() userId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = parseOr400(ListOrdersQuery, request.query, 'query');
    const search = new URLSearchParams({ limit: String(query.limit) });
    if (query.cursor !== undefined) search.set('cursor', query.cursor);
    return forward(reply, request.url, this.upstreams.orders, {
      method: 'GET',
      path: `/orders?${search.toString()}`,
      headers: this.headers(userId, request),
    });
  }

  /** Made once: a retried cancel that had gone through would answer 409 for a cancel that worked. */
  @Post(':orderId/cancel')
  @Authenticated()
  cancel(
    @UserId() userId: string,
    @Param('orderId') orderId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return forward(reply, request.url, this.upstreams.cancels, {
      method: 'POST',
      path: `/orders/${checkOrderId(orderId)}/cancel`,
      headers: this.headers(userId, request),
    });
  }
}
