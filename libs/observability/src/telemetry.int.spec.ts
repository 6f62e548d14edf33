import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { context, SpanKind } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { waitFor } from '@shop/testing';
import { createLogger } from './logger';
import { INSTRUMENTED, startTelemetry, type Telemetry } from './telemetry';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

type LogLine = Record<string, unknown>;

/**
 * jest gives each test file a sandboxed require() that require-in-the-middle
 * never sees, so http cannot be patched when it is required, as it is in a
 * process started with the preload (tested above): patch it here the same way.
 */
function patchHttp(telemetry: Telemetry): () => void {
  const definitions = telemetry.instrumentations
    .flatMap((instrumentation) => (instrumentation as InstrumentationBase).getModuleDefinitions())
    .filter((definition) => definition.name === 'http');
  for (const definition of definitions) definition.patch?.(http, process.versions.node);
  return () => definitions.forEach((definition) => definition.unpatch?.(http, process.versions.node));
}

/** A request exactly as a caller sends it: this process's own fetch instrumentation must not add a traceparent. */
function untracedGet(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return context.with(suppressTracing(context.active()), () => fetch(url, { headers }));
}

interface App {
  readonly lines: LogLine[];
  readonly stderr: string[];
  readonly baseUrl: string;
  /** SIGTERM: the app closes its server, then shuts telemetry down. */
  stop(): Promise<void>;
}

/** A bare http server standing for an app, started with the preload; it requires http only after the preload ran. */
async function startApp(env: Record<string, string>): Promise<App> {
  const root = path.resolve(__dirname, '../../..');
  const source = `
    const http = require('node:http');
    const { createLogger, shutdownTelemetry } = require('@shop/observability');
    const logger = createLogger({ service: 'preload-int' });
    const server = http.createServer((request, response) => {
      logger.info({ url: request.url }, 'handled');
      response.end('ok');
    });
    server.listen(0, '127.0.0.1', () => logger.info({ port: server.address().port }, 'listening'));
    process.on('SIGTERM', () => server.close(() => shutdownTelemetry()));
  `;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, OTEL_SERVICE_NAME: 'preload-int', ...env };
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT']) delete childEnv['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const preload = path.join(root, 'libs/observability/dist/preload.js');
  const child: ChildProcess = spawn(process.execPath, ['--require', preload, '-e', source], {
    cwd: root,
    env: childEnv,
  });
  const lines: LogLine[] = [];
  const stderr: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const complete = (buffered + chunk.toString()).split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) if (line) lines.push(JSON.parse(line) as LogLine);
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await waitFor('the app to listen', () => lines.find((line) => line['msg'] === 'listening'));
  return {
    lines,
    stderr,
    baseUrl: `http://127.0.0.1:${String(listening['port'])}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('the preload (node --require dist/preload.js)', () => {
  it("traces the app's incoming requests: its log lines carry the caller's trace id", async () => {
    const app = await startApp({});
    try {
      const response = await untracedGet(`${app.baseUrl}/orders/o-1`, { traceparent: TRACEPARENT });
      expect(response.status).toBe(200);
      const handled = await waitFor('the request log line', () => app.lines.find((line) => line['msg'] === 'handled'));
      expect(handled).toMatchObject({ service: 'preload-int', url: '/orders/o-1', trace_id: TRACE_ID });
      expect(handled['span_id']).toMatch(/^[0-9a-f]{16}$/);
      expect(handled['span_id']).not.toBe(PARENT_SPAN_ID);
    } finally {
      await app.stop();
    }
    expect(app.stderr.join('')).toBe('');
  });

  it('exports spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushing them on shutdownTelemetry()', async () => {
    const received: Array<{ url: string | undefined; body: Buffer }> = [];
    const collector = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ url: request.url, body: Buffer.concat(chunks) });
        response.end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    try {
      // The batch delay is far longer than the test: only the flush on shutdown sends the span.
      const app = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '600000' });
      await untracedGet(`${app.baseUrl}/orders/o-1`, { traceparent: TRACEPARENT });
      await waitFor('the request log line', () => app.lines.some((line) => line['msg'] === 'handled'));
      expect(received).toEqual([]);
      await app.stop();
      const traces = await waitFor('the exported spans', () => received.find((post) => post.url === '/v1/traces'));
      // http/protobuf by default: the trace id travels as its 16 raw bytes, next to the service name.
      expect(traces.body.includes(Buffer.from(TRACE_ID, 'hex'))).toBe(true);
      expect(traces.body.includes(Buffer.from('preload-int'))).toBe(true);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});

describe('startTelemetry', () => {
  const exporter = new InMemorySpanExporter();
  const lines: LogLine[] = [];
  const logger = createLogger({
    service: 'telemetry-int',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  });
  let telemetry: Telemetry;
  let unpatchHttp: () => void;
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    telemetry = startTelemetry({
      serviceName: 'telemetry-int',
      serviceVersion: '1.2.3',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    unpatchHttp = patchHttp(telemetry);
    server = http.createServer((request, response) => {
      logger.info({ url: request.url }, 'handled');
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await telemetry.shutdown();
    unpatchHttp();
  });

  beforeEach(() => {
    exporter.reset();
    lines.length = 0;
  });

  it('continues the W3C trace context of an incoming request in a server span', async () => {
    await untracedGet(`${baseUrl}/orders/o-1`, { traceparent: TRACEPARENT });
    const span = await waitFor('the server span', () =>
      exporter.getFinishedSpans().find((finished) => finished.kind === SpanKind.SERVER),
    );
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'handled', trace_id: TRACE_ID, span_id: span.spanContext().spanId }),
    ]);
  });

  it('starts a trace for a request that carries none, with the service name and version on the resource', async () => {
    await untracedGet(`${baseUrl}/orders`);
    const span = await waitFor('the server span', () =>
      exporter.getFinishedSpans().find((finished) => finished.kind === SpanKind.SERVER),
    );
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.resource.attributes).toMatchObject({
      [ATTR_SERVICE_NAME]: 'telemetry-int',
      [ATTR_SERVICE_VERSION]: '1.2.3',
    });
    expect(lines[0]).toMatchObject({ trace_id: span.spanContext().traceId });
  });

  it('does not trace health probes and metric scrapes', async () => {
    await untracedGet(`${baseUrl}/health/live`);
    await untracedGet(`${baseUrl}/metrics`);
    await untracedGet(`${baseUrl}/orders`);
    await waitFor('the traced request', () => lines.length === 3 && exporter.getFinishedSpans().length > 0);
    expect(exporter.getFinishedSpans().map((span) => span.attributes['url.path'])).toEqual(['/orders']);
    expect(lines.filter((line) => 'trace_id' in line).map((line) => line['url'])).toEqual(['/orders']);
  });

  it('enables only the instrumentations of the libraries the stack uses', () => {
    expect(telemetry.instrumentations.map((instrumentation) => instrumentation.instrumentationName).sort()).toEqual(
      INSTRUMENTED.map((name) => `@opentelemetry/instrumentation-${name}`).sort(),
    );
  });

  it('is started once per process', () => {
    expect(startTelemetry({ serviceName: 'another' })).toBe(telemetry);
  });
});
