/** The part of a pino logger this lib uses, so a service passes its own and a script passes nothing. */
export interface ResilienceLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export const silentLogger: ResilienceLogger = { info: () => undefined, warn: () => undefined };
