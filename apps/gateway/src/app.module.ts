import { type DynamicModule, Module } from '@nestjs/common';
import { AuthController } from './auth/auth.controller';
import { TokenVerifier } from './auth/token-verifier';
import { MeController } from './me/me.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { OrdersController } from './orders/orders.controller';
import { ProductsController } from './products/products.controller';
import { RATE_LIMITS, type RateLimits } from './rate-limit/rate-limit.guard';
import { UPSTREAMS, type Upstreams } from './upstream/upstreams';

export interface GatewayDependencies {
  readonly upstreams: Upstreams;
  readonly tokens: TokenVerifier;
  readonly rateLimits: RateLimits;
}

/** The gateway's routes (one folder per use case); everything stateful is built by startGateway and passed in. */
@Module({})
export class AppModule {
  static register(deps: GatewayDependencies): DynamicModule {
    return {
      module: AppModule,
      controllers: [AuthController, MeController, ProductsController, OrdersController, OpenApiController],
      providers: [
        { provide: UPSTREAMS, useValue: deps.upstreams },
        { provide: TokenVerifier, useValue: deps.tokens },
        { provide: RATE_LIMITS, useValue: deps.rateLimits },
      ],
    };
  }
}
