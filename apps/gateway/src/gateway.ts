import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bootstrapService } from '@shop/health';
import { createLogger, type DestinationStream } from '@shop/observability';
import { PolicyRegistry, policyReadinessDetail } from '@shop/resilience';
import { AppModule } from './app.module';
import { JwksCache } from './auth/jwks-cache';
import { TokenVerifier } from './auth/token-verifier';
import type { ServiceConfig } from './config';
import { RateLimiter } from './rate-limit/rate-limiter';
import { UpstreamServerError } from './upstream/upstream';
import { createUpstreams } from './upstream/upstreams';

const NAME = 'gateway';

export interface GatewayOptions {
  /** Where log lines go (tests read them); stdout otherwise. */
  readonly logDestination?: DestinationStream;
}

/**
 * Starts the gateway: one policy per upstream (in a registry of its own, so
 * its breakers are what its /health/ready shows), the JWKS cache, the rate
 * limits, then the HTTP service through bootstrapService. Used by main.ts and
 * by the integration tests, so both run the same wiring. It needs no other
 * service to start or to be ready.
 */
export async function startGateway(
  config: ServiceConfig,
  options: GatewayOptions = {},
): Promise<NestFastifyApplication> {
  const logger = createLogger({
    service: NAME,
    level: config.LOG_LEVEL,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const registry = new PolicyRegistry();
  const upstreams = createUpstreams(config, { logger, registry });
  const jwks = new JwksCache({
    fetch: async () => {
      const { value } = await upstreams.users.call({ method: 'GET', path: '/.well-known/jwks.json' });
      if (value.status !== 200) throw new UpstreamServerError('user-service', value.status, 'has no JWKS');
      return value.body;
    },
    refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_S * 1000,
    refreshCooldownMs: config.JWKS_REFRESH_COOLDOWN_S * 1000,
    logger,
  });
  const tokens = new TokenVerifier(jwks, { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });
  const rateLimits = {
    perIp: new RateLimiter({ limit: config.RATE_LIMIT_PER_IP_PER_MIN }),
    perUser: new RateLimiter({ limit: config.RATE_LIMIT_PER_USER_PER_MIN }),
  };
  const stop = async () => {
    jwks.stop();
    registry.shutdown();
  };
  try {
    const app = await bootstrapService({
      name: NAME,
      config,
      port: config.GATEWAY_PORT,
      module: AppModule.register({ upstreams, tokens, rateLimits }),
      // Breaker states are shown; an open breaker to a service never makes the gateway unready.
      details: [policyReadinessDetail(registry)],
      onShutdown: [stop, () => upstreams.productCache.close()],
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
    jwks.start();
    return app;
  } catch (error) {
    await stop();
    await upstreams.productCache.close();
    throw error;
  }
}
