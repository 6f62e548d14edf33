import { timingSafeEqual } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { z } from 'zod';
import { StockLevelChanged } from '@shop/contracts';
import { problem } from '@shop/health';
import { outboxMessage } from '@shop/messaging';
import { StockStore } from '../stock/stock.store';
import { ADMIN, type AdminSettings } from '../tokens';

const ReceiveStockBody = z.strictObject({
  sku: z.string().min(1).max(64),
  quantity: z.int().min(1).max(1_000_000),
});

/** POST /admin/stock: an operator restocks a SKU (appends StockReceived). Exists only with ADMIN_TOKEN set. */
@Controller('admin/stock')
export class ReceiveStockController {
  constructor(
    private readonly stock: StockStore,
    @Inject(ADMIN) private readonly admin: AdminSettings,
  ) {}

  @Post()
  @HttpCode(200)
  async receive(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    const token = this.admin.token;
    const given = Buffer.from(authorization?.startsWith('Bearer ') ? authorization.slice(7) : '');
    if (!token || given.length !== Buffer.byteLength(token) || !timingSafeEqual(given, Buffer.from(token))) {
      throw new UnauthorizedException(problem(401, 'unauthorized', 'a valid admin token is required'));
    }
    const parsed = ReceiveStockBody.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestException({
        ...problem(400, 'invalid request', 'the body does not match { sku, quantity }'),
        errors: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      });
    }
    const { sku, quantity } = parsed.data;
    const meta = { correlationId: `restock-${sku}`, causationId: `restock-${sku}` };
    const outcome = await this.stock.execute([{ sku, command: { kind: 'ReceiveStock', quantity } }], {
      outbox: (result, products) => {
        const row = products.get(sku);
        return result.ok && row ? [outboxMessage(this.admin.stackId, StockLevelChanged, row, meta)] : [];
      },
    });
    if (outcome === 'duplicate' || !outcome.ok) {
      throw new NotFoundException(problem(404, 'product not found', `no product with SKU ${sku}`));
    }
    const { state } = await this.stock.load(sku, undefined, []);
    return { sku, available: state.available };
  }
}
