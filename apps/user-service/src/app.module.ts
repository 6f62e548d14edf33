import { type DynamicModule, Module } from '@nestjs/common';
import { Jwks, JwksController } from './jwks/jwks.controller';
import { LoginController } from './login/login.controller';
import { LoginHandler } from './login/login.handler';
import { ProfileController } from './profile/profile.controller';
import { ProfileHandler } from './profile/profile.handler';
import { RegisterController } from './register/register.controller';
import { RegisterHandler } from './register/register.handler';

/** Everything the use cases need, built once in startUserService (no I/O in Nest's container). */
export interface UseCases {
  readonly register: RegisterHandler;
  readonly login: LoginHandler;
  readonly profile: ProfileHandler;
  readonly jwks: Jwks;
}

/** One controller per use case (one folder each); the handlers are plain classes. */
@Module({})
export class AppModule {
  static register(useCases: UseCases): DynamicModule {
    return {
      module: AppModule,
      controllers: [RegisterController, LoginController, ProfileController, JwksController],
      providers: [
        { provide: RegisterHandler, useValue: useCases.register },
        { provide: LoginHandler, useValue: useCases.login },
        { provide: ProfileHandler, useValue: useCases.profile },
        { provide: Jwks, useValue: useCases.jwks },
      ],
    };
  }
}
