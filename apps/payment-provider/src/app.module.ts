import { type DynamicModule, Module } from '@nestjs/common';
import type { FaultInjector } from '@shop/health';
import type pg from 'pg';
import { CreateChargeController } from './charges/create-charge.controller';
import { CreateChargeHandler } from './charges/create-charge.handler';
import { OutageHook } from './faults/outage.hook';
import { PROVIDER_FAULTS, RANDOM } from './faults/provider-faults';
import { LEDGER_POOL } from './ledger/ledger.tokens';
import { ListChargesController } from './ledger/list-charges.controller';
import { ListChargesHandler } from './ledger/list-charges.handler';
import { CreateRefundController } from './refunds/create-refund.controller';
import { CreateRefundHandler } from './refunds/create-refund.handler';

export interface AppModuleOptions {
  readonly pool: pg.Pool;
  readonly faults: FaultInjector;
  readonly random: () => number;
}

/** The use cases of payment-provider, one folder each: charges, refunds, the ledger query, faults. */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      controllers: [CreateChargeController, CreateRefundController, ListChargesController],
      providers: [
        { provide: LEDGER_POOL, useValue: options.pool },
        { provide: PROVIDER_FAULTS, useValue: options.faults },
        { provide: RANDOM, useValue: options.random },
        CreateChargeHandler,
        CreateRefundHandler,
        ListChargesHandler,
        OutageHook,
      ],
    };
  }
}
