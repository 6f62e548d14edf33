import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type FaultInjector, problem, PROBLEM_CONTENT_TYPE } from '@shop/health';
import type { FastifyInstance } from 'fastify';
import { currentProviderFaults, PROVIDER_FAULTS } from './provider-faults';

/** How long a client is told to wait before it tries again during an outage. */
export const OUTAGE_RETRY_AFTER_S = 5;

const API = /^\/v1(\/|\?|$)/;

/**
 * The `outage` fault: every /v1 request is answered 503 before its body is
 * even read, so nothing reaches a handler and nothing is written, exactly as
 * when the processor's data centre is down. A Fastify onRequest hook rather
 * than a Nest guard, so malformed requests and unknown /v1 paths get the 503
 * too. Health, metrics and admin routes keep working.
 */
@Injectable()
export class OutageHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(PROVIDER_FAULTS) private readonly faults: FaultInjector,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', async (request, reply) => {
      if (!API.test(request.url) || !currentProviderFaults(this.faults).outage) return;
      await reply
        .code(503)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .header('retry-after', String(OUTAGE_RETRY_AFTER_S))
        .send(problem(503, 'provider outage', 'the payment provider is unavailable', request.url));
    });
  }
}
