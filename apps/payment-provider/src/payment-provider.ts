import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPool, migrate, postgresReadiness } from '@shop/event-store';
import { bootstrapService, type ServiceDefinition } from '@shop/health';
import { AppModule } from './app.module';
import type { ServiceConfig } from './config';
import { createProviderFaults } from './faults/provider-faults';
import { PROVIDER_MIGRATIONS } from './ledger/ledger.migrations';

export interface StartOptions {
  /** Uniform draws in [0, 1) for the decline rate and the error rate (Math.random unless given). */
  readonly random?: () => number;
  readonly logDestination?: ServiceDefinition['logDestination'];
}

/**
 * The whole wiring of payment-provider, shared by main.ts and the tests: its
 * ledger database migrated, then the service host of @shop/health with the
 * provider's use cases and its wider fault schema. A port of 0 listens on a
 * free port. app.close() stops the server, then ends the pool.
 */
export async function startPaymentProvider(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<NestFastifyApplication> {
  const random = options.random ?? Math.random;
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    applicationName: 'payment-provider',
  });
  // An idle connection the server closed (a restart, a chaos experiment terminating backends) is
  // dropped by the pool and the next query opens a new one; unhandled, the error would kill the process.
  const poolLogger = new Logger('ledger-pool');
  pool.on('error', (error) => poolLogger.warn(`idle database connection lost: ${error.message}`));
  try {
    await migrate(pool, PROVIDER_MIGRATIONS);
    // Inert unless CHAOS_ENABLED=true: only /admin/faults, which exists only then, sets faults.
    const faults = createProviderFaults({ random });
    return await bootstrapService({
      name: 'payment-provider',
      config,
      port: config.PAYMENT_PROVIDER_PORT,
      module: AppModule.register({ pool, faults, random }),
      readiness: [postgresReadiness(pool)],
      faults,
      onShutdown: [() => pool.end()],
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
