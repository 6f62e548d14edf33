import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Param } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { context, SpanKind } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTelemetry, type Telemetry } from '@shop/observability/telemetry';
import { waitFor } from '@shop/testing';
import { bootstrapService } from './bootstrap';
import { baseConfigShape, loadConfig } from './config';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const CHAOS_TOKEN = 'health-int-chaos-token';

@Controller('probe')
class ProbeController {
  @Get(':id')
  read(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Get(':id/fail')
  fail(): never {
    throw new Error('probe failed');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

type LogLine = Record<string, unknown>;

/**
 * jest gives each test file a sandboxed require() that require-in-the-middle
 * never sees, so http cannot be patched when it is required, as it is in a
 * service started with the preload: patch it here the same way.
 */
function patchHttp(telemetry: Telemetry): () => void {
  const definitions = telemetry.instrumentations
    .flatMap((instrumentation) => (instrumentation as InstrumentationBase).getModuleDefinitions())
    .filter((definition) => definition.name === 'http');
  for (const definition of definitions) definition.patch?.(http, process.versions.node);
  return () => definitions.forEach((definition) => definition.unpatch?.(http, process.versions.node));
}

describe('bootstrapService', () => {
  const exporter = new InMemorySpanExporter();
  const lines: LogLine[] = [];
  let telemetry: Telemetry;
  let unpatchHttp: () => void;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let dependencyDown = false;

  /** A request exactly as a caller sends it: this process's own fetch instrumentation must not add a traceparent. */
  function request(path: string, init: RequestInit = {}): Promise<Response> {
    return context.with(suppressTracing(context.active()), () => fetch(`${baseUrl}${path}`, init));
  }

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'health-int', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    unpatchHttp = patchHttp(telemetry);
    const config = loadConfig('health-int', baseConfigShape, { CHAOS_ENABLED: 'true', CHAOS_TOKEN });
    app = await bootstrapService({
      name: 'health-int',
      config,
      port: 0,
      module: ProbeModule,
      readiness: [
        {
          name: 'dependency',
          check: async () => {
            if (dependencyDown) throw new Error('dependency refused the connection');
          },
        },
      ],
      logDestination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    });
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
    await telemetry.shutdown();
    unpatchHttp();
  });

  it('answers /health/live', async () => {
    const response = await request('/health/live');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves /metrics in Prometheus text format with request durations by route template', async () => {
    expect((await request('/probe/123')).status).toBe(200);
    expect((await request('/nothing/here/456')).status).toBe(404);
    const response = await request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(
      /^http_server_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/probe\/:id",status_code="200"\} \d+$/m,
    );
    expect(text).toMatch(
      /^http_server_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1$/m,
    );
    expect(text).not.toMatch(/route="[^"]*(123|456)/);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
  });

  it('answers /health/ready 503 while a dependency is down, and logs the change once, not each probe', async () => {
    const logged = (message: string) => lines.filter((line) => line['msg'] === message).length;
    expect((await request('/health/ready')).status).toBe(200);
    dependencyDown = true;
    const unready = await request('/health/ready');
    expect(unready.status).toBe(503);
    expect(unready.headers.get('content-type')).toContain('application/problem+json');
    expect(await unready.json()).toMatchObject({
      status: 503,
      title: 'not ready',
      detail: 'down: dependency',
      details: { dependency: { status: 'down', message: 'dependency refused the connection' } },
    });
    expect((await request('/health/ready')).status).toBe(503);
    expect(logged('not ready: dependency')).toBe(1);
    expect(lines.find((line) => line['msg'] === 'not ready: dependency')).toMatchObject({ level: 40 }); // pino's warn
    expect(lines.filter((line) => line['msg'] === 'request failed' && line['url'] === '/health/ready')).toEqual([]);
    const readyBefore = logged('ready');
    dependencyDown = false;
    expect((await request('/health/ready')).status).toBe(200);
    expect((await request('/health/ready')).status).toBe(200);
    expect(logged('ready')).toBe(readyBefore + 1);
  });

  it("logs a request's failure with the trace id of the caller's traceparent", async () => {
    const response = await request('/probe/7/fail', {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });
    expect(response.status).toBe(500);
    const failure = lines.find((line) => line['msg'] === 'request failed');
    expect(failure).toMatchObject({ service: 'health-int', url: '/probe/7/fail', trace_id: TRACE_ID });
    const span = await waitFor('the server span', () =>
      exporter
        .getFinishedSpans()
        .find((finished) => finished.kind === SpanKind.SERVER && finished.spanContext().traceId === TRACE_ID),
    );
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(failure?.['span_id']).toBe(span.spanContext().spanId);
  });

  it('keeps /metrics and /health out of fault injection, and counts injected errors', async () => {
    const faults = await request('/admin/faults', {
      method: 'PUT',
      headers: { authorization: `Bearer ${CHAOS_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1 }),
    });
    expect(faults.status).toBe(200);
    try {
      expect((await request('/probe/9')).status).toBe(503);
      expect((await request('/health/live')).status).toBe(200);
      const metrics = await request('/metrics');
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(
        /^http_server_request_duration_seconds_count\{method="GET",route="\/probe\/:id",status_code="503"\} 1$/m,
      );
    } finally {
      await request('/admin/faults', { method: 'DELETE', headers: { authorization: `Bearer ${CHAOS_TOKEN}` } });
    }
  });
});
