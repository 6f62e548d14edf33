import { readFileSync } from 'node:fs';
import path from 'node:path';
import { context, diag, DiagLogLevel, type DiagLogger, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  CompositePropagator,
  diagLogLevelFromString,
  getBooleanFromEnv,
  getNumberFromEnv,
  getStringFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { createLogger, type Logger } from './logger';
import { onTelemetryShutdown, shutdownTelemetry } from './telemetry-shutdown';

export { shutdownTelemetry } from './telemetry-shutdown';

/**
 * The libraries this stack traces, and the only instrumentations loaded:
 * the auto-instrumentations bundle requires about forty (fs, dns, net,
 * express...) even when all but four are disabled, which costs every
 * process tens of megabytes and a second of start-up.
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS (comma-separated names from this list)
 * narrows it further. undici is Node's fetch, which does not go through the
 * http module.
 *
 * kafkajs is deliberately not here: the outbox relay sends messages of many
 * traces in one batch, and the kafkajs instrumentation would stamp them all
 * with the relay's own context. The relay (@shop/event-store) and the consumer
 * (@shop/messaging) create the producer and consumer spans themselves, one per
 * message, under the trace each message carries.
 */
export const INSTRUMENTED = ['http', 'undici', 'nestjs-core', 'pg'] as const;

/**
 * The instrumentations that carry trace context in and out of a process (the
 * incoming request's traceparent, the outgoing call's header). With no
 * exporter these are the only ones loaded: a span nothing records is worth
 * having only where it carries the trace id onward (to the logs, across HTTP
 * and, through the outbox and the consumer, across Kafka); NestJS's and pg's
 * spans would be started, and dropped, on every handler and every query.
 */
export const PROPAGATING = ['http', 'undici'] as const satisfies ReadonlyArray<(typeof INSTRUMENTED)[number]>;

export interface ServiceIdentity {
  readonly name: string;
  readonly version: string | undefined;
}

export interface TelemetryOptions {
  readonly serviceName?: string;
  readonly serviceVersion?: string;
  /**
   * Where finished spans go. By default OTLP (protocol and endpoint from the
   * OTEL_EXPORTER_OTLP_* variables) when OTEL_EXPORTER_OTLP_ENDPOINT is set;
   * else nowhere, though spans are still created and propagated.
   */
  readonly spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  readonly service: ServiceIdentity;
  /** The enabled instrumentations, one per name in INSTRUMENTED. */
  readonly instrumentations: readonly Instrumentation[];
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts tracing once per process: W3C trace context propagation, the
 * instrumentations of INSTRUMENTED, service name and version as resource
 * attributes. Must run before the app requires what it traces;
 * `@shop/observability/preload` calls it.
 *
 * The parts are put together here rather than by the SDK's NodeSDK, which
 * requires every exporter it could build from the environment (OTLP over
 * gRPC, HTTP and protobuf for traces, metrics and logs, Zipkin, Prometheus,
 * with gRPC's runtime) before it reads the environment: about 400 modules
 * and 20 MB more of every service's memory, for a stack that exports spans
 * over one OTLP protocol and neither metrics nor logs (prom-client serves
 * /metrics, pino writes the logs). Only the exporter of the configured
 * protocol is loaded, and only when spans are exported.
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  if (started) return started;
  const service = serviceIdentity(process.env, options, entryPackage(process.argv[1]));
  if (getBooleanFromEnv('OTEL_SDK_DISABLED')) {
    started = { service, instrumentations: [], shutdown: () => Promise.resolve() };
    return started;
  }
  const diagnostics = diagLogger(createLogger({ service: service.name, level: 'trace' }));
  const diagLevel = diagLogLevelFromString(getStringFromEnv('OTEL_LOG_LEVEL')) ?? DiagLogLevel.WARN;
  diag.setLogger(diagnostics, { logLevel: diagLevel, suppressOverrideMessage: true });

  // Without an exporter no span is recorded (nothing would read it): spans are still started,
  // non-recording, so trace ids still reach the logs and cross Kafka and HTTP, for a fraction of the
  // cost per span, and only the instrumentations that carry the context are loaded (PROPAGATING).
  const exporting = options.spanProcessors !== undefined || exportsOtlp();
  const instrumentations = enabledInstrumentations(getStringFromEnv('OTEL_NODE_ENABLED_INSTRUMENTATIONS'), exporting);
  const spanProcessors =
    options.spanProcessors ?? (exporting ? [batchProcessor(otlpExporter())] : [new NoopSpanProcessor()]);
  const sampler = samplerFromEnv() ?? (exporting ? undefined : new AlwaysOffSampler());

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const tracerProvider = new TracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES, the host and the process, under this service's name and version.
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector, hostDetector, processDetector] }))
      .merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: service.name,
          ...(service.version ? { [ATTR_SERVICE_VERSION]: service.version } : {}),
        }),
      ),
    spanProcessors,
    ...(sampler ? { sampler } : {}),
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const unregister = registerInstrumentations({ instrumentations, tracerProvider });

  const shutdown = async (): Promise<void> => {
    started = undefined;
    try {
      await tracerProvider.shutdown();
    } finally {
      unregister();
      trace.disable();
      propagation.disable();
      context.disable();
    }
  };
  onTelemetryShutdown(shutdown);
  started = { service, instrumentations, shutdown: shutdownTelemetry };
  return started;
}

/**
 * The OTLP span exporter of OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
 * OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default, as the
 * specification says); its endpoint, headers and timeout come from the
 * OTEL_EXPORTER_OTLP_* variables, which the exporter reads itself. Required
 * here, not imported above, so a process that exports nothing loads none.
 */
function otlpExporter(): SpanExporter {
  const protocol =
    (
      getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL')
    )?.trim() || 'http/protobuf';
  type ExporterModule = { OTLPTraceExporter: new () => SpanExporter };
  switch (protocol) {
    case 'grpc':
      return new (require('@opentelemetry/exporter-trace-otlp-grpc') as ExporterModule).OTLPTraceExporter();
    case 'http/json':
      return new (require('@opentelemetry/exporter-trace-otlp-http') as ExporterModule).OTLPTraceExporter();
    default:
      if (protocol !== 'http/protobuf') diag.warn(`unsupported OTLP protocol "${protocol}"; using http/protobuf`);
      return new (require('@opentelemetry/exporter-trace-otlp-proto') as ExporterModule).OTLPTraceExporter();
  }
}

/** A batching processor with the OTEL_BSP_* settings the specification defines (the SDK's defaults otherwise). */
function batchProcessor(exporter: SpanExporter): SpanProcessor {
  const setting = (name: string): number | undefined => {
    const value = getNumberFromEnv(name);
    return value !== undefined && value >= 0 ? value : undefined;
  };
  const settings = {
    maxQueueSize: setting('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: setting('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: setting('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: setting('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  };
  return new BatchSpanProcessor({
    exporter,
    ...Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)),
  });
}

/** The sampler OTEL_TRACES_SAMPLER (and OTEL_TRACES_SAMPLER_ARG) names, as the specification lists them. */
export function samplerFromEnv(): Sampler | undefined {
  const name = getStringFromEnv('OTEL_TRACES_SAMPLER');
  if (name === undefined) return undefined;
  const ratio = (): number => {
    const value = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG');
    return value !== undefined && value >= 0 && value <= 1 ? value : 1;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      diag.warn(`unknown OTEL_TRACES_SAMPLER "${name}"; using the default (parent-based, always on)`);
      return undefined;
  }
}

/**
 * OTEL_SERVICE_NAME or SERVICE_NAME, else the name of the started app's
 * package (`@shop/order-service` → `order-service`); SERVICE_VERSION, else
 * that package's version. Options win over both.
 */
export function serviceIdentity(
  env: NodeJS.ProcessEnv,
  options: Pick<TelemetryOptions, 'serviceName' | 'serviceVersion'>,
  entry: EntryPackage | undefined,
): ServiceIdentity {
  const name =
    options.serviceName ||
    env['OTEL_SERVICE_NAME'] ||
    env['SERVICE_NAME'] ||
    entry?.name?.replace(/^@[^/]+\//, '') ||
    'unknown_service:node';
  const version = options.serviceVersion || env['SERVICE_VERSION'] || entry?.version || undefined;
  return { name, version };
}

export interface EntryPackage {
  readonly name?: string;
  readonly version?: string;
}

/** The package.json nearest to the script node started (apps/<name>/dist/main.js → apps/<name>/package.json). */
function entryPackage(entry: string | undefined): EntryPackage | undefined {
  if (!entry) return undefined;
  for (let dir = path.dirname(path.resolve(entry)); ; dir = path.dirname(dir)) {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as EntryPackage;
    } catch {
      if (path.dirname(dir) === dir) return undefined;
    }
  }
}

/**
 * One instance of each instrumentation in INSTRUMENTED (of PROPAGATING when
 * spans are not exported), or of those `enabled` names (comma-separated).
 */
export function enabledInstrumentations(enabled: string | undefined, exporting = true): Instrumentation[] {
  const wanted: ReadonlySet<string> | undefined =
    enabled !== undefined
      ? new Set(enabled.split(',').map((name) => name.trim()))
      : exporting
        ? undefined
        : new Set<string>(PROPAGATING);
  const build: Record<(typeof INSTRUMENTED)[number], () => Instrumentation> = {
    // Probes and scrapes every few seconds would bury the traces worth reading.
    http: () => new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => isProbe(request.url) }),
    undici: () => new UndiciInstrumentation(),
    'nestjs-core': () => new NestInstrumentation(),
    // The outbox relay polls its table on a timer; only queries inside a request or a message are traced.
    pg: () => new PgInstrumentation({ requireParentSpan: true }),
  };
  return INSTRUMENTED.filter((name) => wanted === undefined || wanted.has(name)).map((name) => build[name]());
}

function exportsOtlp(): boolean {
  const endpoint =
    getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  return endpoint !== undefined && getStringFromEnv('OTEL_TRACES_EXPORTER') !== 'none';
}

function isProbe(url: string | undefined): boolean {
  return url !== undefined && (url.startsWith('/health/') || url === '/metrics');
}

/** The SDK's own warnings (an unreachable collector, a failed patch) as JSON log lines, not console output. */
function diagLogger(logger: Logger): DiagLogger {
  const log = logger.child({ component: 'opentelemetry' });
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]): void =>
      log[level](args.length ? { detail: args.map(String) } : {}, message);
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('trace') };
}
