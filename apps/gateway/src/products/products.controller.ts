import { Controller, Get, Inject, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX } from '../http/api';
import { forwardedFor } from '../http/forwarded-for';
import { problemException } from '../http/problems';
import { IpRateLimitGuard } from '../rate-limit/rate-limit.guard';
import { forward } from '../upstream/upstream-reply';
import { UPSTREAMS, type Upstreams } from '../upstream/upstreams';
import { SkuParam } from './products.schemas';

/**
 * GET /api/v1/products and /products/:sku → inventory-service, public.
 * Reads are retried, and when inventory-service cannot answer, the last good
 * answer (at most FALLBACK_MAX_AGE_S old) is served with `x-cache: stale`
 * and `age`; with none, 503 + Retry-After. The cache is the inventory
 * policy's fallback (upstream/upstreams.ts).
 */
@Controller(`${API_PREFIX}/products`)
@UseGuards(IpRateLimitGuard)
export class ProductsController {
  constructor(@Inject(UPSTREAMS) private readonly upstreams: Upstreams) {}

  @Get()
  list(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return forward(
      reply,
      request.url,
      this.upstreams.inventory,
      { method: 'GET', path: '/products', headers: { 'x-forwarded-for': forwardedFor(request) } },
      'products',
    );
  }

  @Get(':sku')
  one(@Param('sku') sku: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!SkuParam.safeParse(sku).success) {
      throw problemException(404, 'product not found', 'no product has this SKU');
    }
    return forward(
      reply,
      request.url,
      this.upstreams.inventory,
      {
        method: 'GET',
        path: `/products/${encodeURIComponent(sku)}`,
        headers: { 'x-forwarded-for': forwardedFor(request) },
      },
      `products/${sku}`,
    );
  }
}
