import { type DynamicModule, Module } from '@nestjs/common';
import type pg from 'pg';
import { ProductsController } from './catalog/products.controller';
import { ReceiveStockController } from './catalog/receive-stock.controller';
import { StockStore } from './stock/stock.store';
import { ADMIN, type AdminSettings, INVENTORY_POOL } from './tokens';

/** inventory-service's HTTP side: the catalog reads and the operator's restock. */
@Module({})
export class AppModule {
  static register(deps: { pool: pg.Pool; stock: StockStore; admin: AdminSettings }): DynamicModule {
    return {
      module: AppModule,
      controllers: [ProductsController, ReceiveStockController],
      providers: [
        { provide: INVENTORY_POOL, useValue: deps.pool },
        { provide: StockStore, useValue: deps.stock },
        { provide: ADMIN, useValue: deps.admin },
      ],
    };
  }
}
