import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Logger } from '@shop/observability';
import { SERVICE_LOGGER } from './problem.filter';
import { type ReadinessCheck, type ReadinessDetail, withTimeout } from './readiness';

export const READINESS = Symbol('READINESS');

export interface Readiness {
  readonly checks: readonly ReadinessCheck[];
  readonly details: readonly ReadinessDetail[];
}

const CHECK_TIMEOUT_MS = 3_000;

/**
 * /health/live says the process is up and checks nothing else, so a slow
 * database never gets a healthy process restarted. /health/ready checks the
 * service's own dependencies and answers 503 when one is down; details such as
 * breaker states are shown but never make it unready.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS) private readonly readiness: Readiness,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The checks that were down at the last probe (undefined: ready; '' before
   * the first probe): readiness is logged when it changes, not on every probe.
   */
  private down: string | undefined = '';

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health
      .check([
        ...this.readiness.checks.map((dependency) => async () => {
          const indicator = this.indicators.check(dependency.name);
          try {
            const details = await withTimeout(dependency.check(), CHECK_TIMEOUT_MS, dependency.name);
            return indicator.up(details ?? {});
          } catch (error) {
            return indicator.down({ message: error instanceof Error ? error.message : String(error) });
          }
        }),
        ...this.readiness.details.map((detail) => async () => this.indicators.check(detail.name).up(detail.read())),
      ])
      .then(
        (result) => {
          this.changed(undefined, {});
          return result;
        },
        (error: unknown) => {
          const details = (error as { response?: { details?: Record<string, { status?: string }> } }).response?.details;
          const down = Object.entries(details ?? {}).filter(([, detail]) => detail.status === 'down');
          this.changed(down.map(([name]) => name).join(', ') || 'unknown', Object.fromEntries(down));
          throw error;
        },
      );
  }

  private changed(down: string | undefined, details: Record<string, unknown>): void {
    if (down === this.down) return;
    this.down = down;
    if (down) this.logger.warn({ down: details }, `not ready: ${down}`);
    else this.logger.info('ready');
  }
}
