export { createLogger, type DestinationStream, type Logger, type LoggerOptions } from './logger';
export { NestPinoLogger } from './nest-logger';
export { traceContext, type TraceFields } from './trace-context';
export {
  collectProcessMetrics,
  HTTP_DURATION_BUCKETS,
  HTTP_SERVER_DURATION,
  observeHttpRequest,
  routeLabel,
  UNMATCHED_ROUTE,
  type HttpRequestObservation,
} from './http-metrics';
export { shutdownTelemetry } from './telemetry-shutdown';
