import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from './logger';

type LogLine = Record<string, unknown>;

function memoryLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    service: 'order-service',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const tracer = new TracerProvider().getTracer('logger-spec');

  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => {
    contextManager.disable();
    context.disable();
  });

  it('writes the trace_id and span_id of the active span on each line', () => {
    const { logger, lines } = memoryLogger();
    const ids = tracer.startActiveSpan('place order', (span) => {
      logger.info({ orderId: 'o-1' }, 'order placed');
      span.end();
      return span.spanContext();
    });
    expect(lines).toEqual([
      expect.objectContaining({
        service: 'order-service',
        msg: 'order placed',
        orderId: 'o-1',
        trace_id: ids.traceId,
        span_id: ids.spanId,
      }),
    ]);
  });

  it('follows the active span into nested spans', () => {
    const { logger, lines } = memoryLogger();
    const [outer, inner] = tracer.startActiveSpan('outer', (outerSpan) => {
      const innerIds = tracer.startActiveSpan('inner', (innerSpan) => {
        logger.info('inside');
        innerSpan.end();
        return innerSpan.spanContext();
      });
      outerSpan.end();
      return [outerSpan.spanContext(), innerIds];
    });
    expect(inner?.traceId).toBe(outer?.traceId);
    expect(lines[0]).toMatchObject({ trace_id: inner?.traceId, span_id: inner?.spanId });
  });

  it('writes no trace fields outside a span', () => {
    const { logger, lines } = memoryLogger();
    logger.info('idle');
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
  });

  it('redacts passwords, tokens and authorization headers wherever they appear', () => {
    const { logger, lines } = memoryLogger();
    logger.info(
      {
        password: 'p',
        user: { password: 'p' },
        body: { paymentToken: 'tok_1', token: 't' },
        request: { headers: { authorization: 'Bearer secret' } },
      },
      'request',
    );
    expect(lines[0]).toMatchObject({
      password: '[redacted]',
      user: { password: '[redacted]' },
      body: { paymentToken: '[redacted]', token: '[redacted]' },
      request: { headers: { authorization: '[redacted]' } },
    });
    expect(JSON.stringify(lines[0])).not.toMatch(/secret|tok_1/);
  });
});
