import { type DynamicModule, Module } from '@nestjs/common';
import type pg from 'pg';
import { CancelOrderController } from './cancel-order/cancel-order.controller';
import { OrderStore } from './order/order.store';
import { OrdersController } from './orders/orders.controller';
import { PlaceOrderController } from './place-order/place-order.controller';
import { PlaceOrderHandler } from './place-order/place-order.handler';
import { ORDER_POOL } from './tokens';

/** order-service's HTTP side (behind the gateway): place, read, list and cancel orders. */
@Module({})
export class AppModule {
  static register(deps: { pool: pg.Pool; orders: OrderStore; placeOrder: PlaceOrderHandler }): DynamicModule {
    return {
      module: AppModule,
      controllers: [PlaceOrderController, OrdersController, CancelOrderController],
      providers: [
        { provide: ORDER_POOL, useValue: deps.pool },
        { provide: OrderStore, useValue: deps.orders },
        { provide: PlaceOrderHandler, useValue: deps.placeOrder },
      ],
    };
  }
}
