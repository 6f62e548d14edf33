/**
 * A dependency a service needs to be ready (its database, the broker). The
 * check resolves with details or throws; it must finish on its own within a
 * few seconds.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<Record<string, unknown> | void>;
}

/** Extra detail shown on /health/ready that never makes the service unready (breaker states). */
export interface ReadinessDetail {
  readonly name: string;
  read(): Record<string, unknown>;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
