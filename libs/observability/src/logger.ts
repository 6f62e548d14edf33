import {
  pino,
  type DestinationStream,
  type LevelWithSilent,
  type Logger,
  type LoggerOptions as PinoOptions,
} from 'pino';
import { traceContext } from './trace-context';

export type { DestinationStream, Logger } from 'pino';

export interface LoggerOptions {
  readonly service: string;
  readonly level?: LevelWithSilent;
  readonly version?: string;
  /** Where lines go: stdout unless given (tests pass a memory stream). */
  readonly destination?: DestinationStream;
}

/**
 * JSON logs, one object per line, with the service name on every line and the
 * `trace_id`/`span_id` of the active span when there is one. Paths that can
 * carry secrets are redacted wherever they appear.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings: PinoOptions = {
    level: options.level ?? 'info',
    base: { service: options.service, ...(options.version ? { version: options.version } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceContext,
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'paymentToken',
        '*.paymentToken',
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
