import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';

export interface JwksLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface JwksCacheOptions {
  /** Fetches the JWK Set (through the user-service policy). */
  readonly fetch: () => Promise<unknown>;
  readonly refreshIntervalMs: number;
  /** An unknown `kid` triggers a refresh at most this often, so random kids cannot flood user-service. */
  readonly refreshCooldownMs: number;
  readonly now?: () => number;
  readonly logger?: JwksLogger;
}

const jwkSetSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) });

/**
 * user-service's public keys, kept in memory: fetched at start, again every
 * `refreshIntervalMs`, and when a token names a key we do not have. A failed
 * fetch keeps the keys we had, so a user-service outage does not log
 * everyone out; tokens are verified locally, never by asking user-service.
 */
export class JwksCache {
  private keySet: JWTVerifyGetKey | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: JwksCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The key lookup for jose's jwtVerify; undefined until a JWKS was fetched once. */
  get keys(): JWTVerifyGetKey | undefined {
    return this.keySet;
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Fetches the JWKS now (one fetch at a time); a failure is logged and keeps the keys we had. */
  refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** For a token whose `kid` we do not know: refreshes unless one was tried within the cooldown. */
  async refreshForUnknownKey(): Promise<boolean> {
    if (this.inFlight) {
      await this.inFlight;
      return true;
    }
    if (this.now() - this.lastAttemptAt < this.options.refreshCooldownMs) return false;
    await this.refresh();
    return true;
  }

  private async load(): Promise<void> {
    this.lastAttemptAt = this.now();
    try {
      const jwks = jwkSetSchema.parse(await this.options.fetch()) as JSONWebKeySet;
      this.keySet = createLocalJWKSet(jwks);
      this.options.logger?.info({ kids: jwks.keys.map((key) => key.kid) }, 'JWKS loaded');
    } catch (error) {
      this.options.logger?.warn(
        { err: error, haveKeys: this.keySet !== undefined },
        'JWKS fetch failed; keeping the keys we have',
      );
    }
  }
}
