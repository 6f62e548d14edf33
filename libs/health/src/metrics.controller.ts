import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';

/**
 * GET /metrics: prom-client's default registry, where every lib registers its
 * metrics (HTTP, breakers, consumers, outbox), in Prometheus text format.
 * Fault injection never touches it, so a scrape still works mid-experiment.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
