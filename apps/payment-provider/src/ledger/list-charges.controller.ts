import { Controller, Get, Query } from '@nestjs/common';
import { parseQuery } from '../http/request-checks';
import { type LedgerCharge, listChargesQuery } from './list-charges.dto';
import { ListChargesHandler } from './list-charges.handler';

/** GET /v1/charges?reference=…: `{ items: [...] }`; `reference` is required. */
@Controller('v1/charges')
export class ListChargesController {
  constructor(private readonly handler: ListChargesHandler) {}

  @Get()
  async list(@Query() query: unknown): Promise<{ items: LedgerCharge[] }> {
    const { reference } = parseQuery(listChargesQuery, query);
    return { items: await this.handler.execute(reference) };
  }
}
