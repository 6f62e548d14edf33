import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import type pg from 'pg';
import { problem } from '@shop/health';
import { INVENTORY_POOL } from '../tokens';

export interface ProductView {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly available: number;
}

const SELECT = `select sku, name, price_cents as "priceCents", currency, available from products`;

/** GET /products and GET /products/:sku, from the products read model. */
@Controller('products')
export class ProductsController {
  constructor(@Inject(INVENTORY_POOL) private readonly pool: pg.Pool) {}

  @Get()
  async list(): Promise<{ items: ProductView[] }> {
    const result = await this.pool.query<ProductView>(`${SELECT} order by sku`);
    return { items: result.rows };
  }

  @Get(':sku')
  async one(@Param('sku') sku: string): Promise<ProductView> {
    const result = await this.pool.query<ProductView>(`${SELECT} where sku = $1`, [sku]);
    const product = result.rows[0];
    if (!product) throw new NotFoundException(problem(404, 'product not found', `no product with SKU ${sku}`));
    return product;
  }
}
