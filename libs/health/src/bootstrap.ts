import 'reflect-metadata';
import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import {
  collectProcessMetrics,
  createLogger,
  type DestinationStream,
  type Logger,
  NestPinoLogger,
  shutdownTelemetry,
} from '@shop/observability';
import type { BaseConfig } from './config';
import { ConfigError } from './config';
import { FaultInjector } from './fault-injection';
import { CHAOS_TOKEN, ChaosTokenGuard, FaultsController } from './faults.controller';
import { HealthController, READINESS, type Readiness } from './health.controller';
import { injectFaults, recordHttpMetrics } from './http-hooks';
import { MetricsController } from './metrics.controller';
import { ProblemFilter, SERVICE_LOGGER } from './problem.filter';
import type { ReadinessCheck, ReadinessDetail } from './readiness';

/** Largest request body any service accepts (docs/contract.md: 413 above 64 KiB). */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ServiceDefinition {
  readonly name: string;
  readonly version?: string;
  readonly config: BaseConfig;
  readonly port: number;
  /** The service's own module (its use cases). */
  readonly module: Type<unknown> | DynamicModule;
  readonly readiness?: readonly ReadinessCheck[];
  readonly details?: readonly ReadinessDetail[];
  /** Faults this service understands beyond the common ones. */
  readonly faults?: FaultInjector;
  /** Runs after the HTTP server has stopped taking requests, in order (close pools, disconnect clients). */
  readonly onShutdown?: ReadonlyArray<() => Promise<void>>;
  /** Where log lines go: stdout unless given (tests capture them). */
  readonly logDestination?: DestinationStream;
}

const SHUTDOWN_HOOKS = Symbol('SHUTDOWN_HOOKS');

class ShutdownHooks implements OnApplicationShutdown {
  constructor(
    @Inject(SHUTDOWN_HOOKS) private readonly hooks: ReadonlyArray<() => Promise<void>>,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'shutting down');
    for (const hook of this.hooks) {
      await hook().catch((error: unknown) => this.logger.error({ err: error }, 'shutdown step failed'));
    }
  }
}

@Module({})
class ServiceHostModule {
  static forRoot(definition: ServiceDefinition, logger: Logger, faults: FaultInjector | undefined): DynamicModule {
    const readiness: Readiness = { checks: definition.readiness ?? [], details: definition.details ?? [] };
    const providers: Provider[] = [
      { provide: SERVICE_LOGGER, useValue: logger },
      { provide: READINESS, useValue: readiness },
      // Telemetry last, so the spans of the other steps are exported.
      { provide: SHUTDOWN_HOOKS, useValue: [...(definition.onShutdown ?? []), shutdownTelemetry] },
      { provide: APP_FILTER, useClass: ProblemFilter },
      ShutdownHooks,
    ];
    if (faults) {
      providers.push(
        { provide: FaultInjector, useValue: faults },
        { provide: CHAOS_TOKEN, useValue: definition.config.CHAOS_TOKEN },
        ChaosTokenGuard,
      );
    }
    return {
      module: ServiceHostModule,
      // Terminus would log every failed probe as an error; HealthController logs the transitions instead.
      imports: [TerminusModule.forRoot({ logger: false }), definition.module],
      controllers: [HealthController, MetricsController, ...(faults ? [FaultsController] : [])],
      providers,
    };
  }
}

/**
 * The one way every service starts: JSON logs carrying trace ids, config
 * already validated, /health/live and /health/ready, /metrics with HTTP RED
 * and process metrics, problem+json errors, fault injection when
 * CHAOS_ENABLED=true, a 64 KiB body limit, and a graceful shutdown that stops
 * taking requests before it closes pools and clients, and flushes traces last.
 * Tracing itself starts earlier, in the preload (@shop/observability/preload).
 */
export async function bootstrapService(definition: ServiceDefinition): Promise<NestFastifyApplication> {
  const { config } = definition;
  const logger = createLogger({
    service: definition.name,
    level: config.LOG_LEVEL,
    ...(definition.version ? { version: definition.version } : {}),
    ...(definition.logDestination ? { destination: definition.logDestination } : {}),
  });
  if (config.CHAOS_ENABLED && !config.CHAOS_TOKEN) {
    throw new ConfigError(definition.name, ['CHAOS_TOKEN: required when CHAOS_ENABLED=true']);
  }
  const faults = config.CHAOS_ENABLED ? (definition.faults ?? new FaultInjector()) : undefined;
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(
    ServiceHostModule.forRoot(definition, logger, faults),
    adapter,
    { logger: new NestPinoLogger(logger), bufferLogs: false },
  );
  const http = app.getHttpAdapter().getInstance();
  collectProcessMetrics();
  recordHttpMetrics(http);
  if (faults) injectFaults(http, faults);
  app.enableShutdownHooks();
  await app.listen(definition.port, config.HOST);
  logger.info({ port: definition.port, host: config.HOST, chaos: Boolean(faults) }, `${definition.name} listening`);
  return app;
}

/**
 * Runs a service's start function; a bad configuration or a failed start is
 * logged as one clear line and the process exits 1.
 */
export function runService(name: string, start: () => Promise<unknown>): void {
  start().catch((error: unknown) => {
    const logger = createLogger({ service: name });
    if (error instanceof ConfigError) logger.fatal({ issues: error.issues }, error.message);
    else logger.fatal({ err: error }, `${name} failed to start`);
    logger.flush();
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  });
}
