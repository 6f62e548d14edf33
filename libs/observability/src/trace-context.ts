import { isSpanContextValid, trace } from '@opentelemetry/api';

export interface TraceFields {
  readonly trace_id?: string;
  readonly span_id?: string;
}

/**
 * The ids of the span active where a log line is written, so a log line can
 * be found from a trace and the other way round. Empty outside any span, or
 * when no tracer is installed (no preload).
 */
export function traceContext(): TraceFields {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
