import { type DynamicModule, Module } from '@nestjs/common';
import { PaymentStore } from './payment/payment.store';
import { PaymentStatusController } from './payment-status/payment-status.controller';

/** payment-service's HTTP side: only GET /payments/:orderId; its real work arrives over Kafka. */
@Module({})
export class AppModule {
  static register(deps: { payments: PaymentStore }): DynamicModule {
    return {
      module: AppModule,
      controllers: [PaymentStatusController],
      providers: [{ provide: PaymentStore, useValue: deps.payments }],
    };
  }
}
