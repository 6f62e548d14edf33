import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPool, EVENT_STORE_MIGRATIONS, EventStore, migrate, postgresReadiness } from '@shop/event-store';
import { bootstrapService } from '@shop/health';
import type { DestinationStream } from '@shop/observability';
import { AppModule } from './app.module';
import { type Clock, systemClock } from './clock';
import type { ServiceConfig } from './config';
import { Jwks } from './jwks/jwks.controller';
import { loadSigningKey } from './jwks/signing-key';
import { AccessTokenIssuer } from './login/access-token';
import { credentialsFromUsers, LoginHandler } from './login/login.handler';
import { LoginThrottle } from './login/login-throttle';
import { PasswordHasher } from './password/password-hasher';
import { ProfileHandler } from './profile/profile.handler';
import { RegisterHandler } from './register/register.handler';
import { USER_MIGRATIONS } from './user/users.projection';

export interface StartOptions {
  /** Where log lines go (tests read them); stdout otherwise. */
  readonly logDestination?: DestinationStream;
  readonly clock?: Clock;
}

/**
 * Starts user-service: signing key (refusing a production start without one),
 * database schema, then the HTTP service through bootstrapService. Used by
 * main.ts and by the integration tests, so both run the same wiring.
 */
export async function startUserService(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<NestFastifyApplication> {
  const clock = options.clock ?? systemClock;
  const signingKey = await loadSigningKey(config);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    applicationName: 'user-service',
  });
  try {
    await migrate(pool, [...EVENT_STORE_MIGRATIONS, ...USER_MIGRATIONS]);
    const store = new EventStore(pool);
    const passwords = await PasswordHasher.create();
    const throttle = new LoginThrottle(
      {
        maxFailuresPerEmail: config.LOGIN_MAX_FAILURES_PER_EMAIL,
        maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
        windowMs: config.LOGIN_THROTTLE_WINDOW_S * 1000,
      },
      clock,
    );
    const tokens = new AccessTokenIssuer(
      signingKey,
      { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlS: config.JWT_TTL_S },
      clock,
    );
    const app = await bootstrapService({
      name: 'user-service',
      config,
      port: config.USER_SERVICE_PORT,
      module: AppModule.register({
        register: new RegisterHandler(pool, store, passwords, clock),
        login: new LoginHandler(credentialsFromUsers(pool), passwords, throttle, tokens),
        profile: new ProfileHandler(pool),
        jwks: new Jwks([signingKey.publicJwk]),
      }),
      readiness: [postgresReadiness(pool)],
      onShutdown: [() => pool.end()],
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
    if (signingKey.generated) {
      new Logger('jwt').warn(
        `JWT_PRIVATE_KEY is not set: signing with a key generated at start (kid ${signingKey.kid}); ` +
          'its tokens stop verifying when this process ends',
      );
    }
    return app;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
