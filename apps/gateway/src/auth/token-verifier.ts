import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { JwksCache } from './jwks-cache';

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
  /** Seconds of clock skew tolerated on `exp`/`nbf`/`iat`. */
  readonly clockToleranceS?: number;
  readonly now?: () => number;
}

/** What a token check found: errors are values here, the guard maps them to 401 or 503. */
export type TokenCheck =
  | { readonly kind: 'valid'; readonly userId: string }
  | { readonly kind: 'invalid'; readonly detail: string }
  | { readonly kind: 'keys-unavailable' };

/** A `sub` that can travel in a header and a path segment: printable ASCII, no spaces, not `.` or `..`. */
const subject = z.string().regex(/^(?!\.\.?$)[\x21-\x7e]{1,200}$/);

/**
 * Verifies user-service's access tokens locally: EdDSA signature against
 * the cached JWKS, `iss`, `aud`, `exp` and a usable `sub`. A token naming an
 * unknown key triggers one JWKS refresh (a key rotation) and one more try.
 */
export class TokenVerifier {
  constructor(
    private readonly jwks: JwksCache,
    private readonly settings: TokenSettings,
  ) {}

  async check(token: string): Promise<TokenCheck> {
    if (!this.jwks.keys) await this.jwks.refresh();
    const keys = this.jwks.keys;
    if (!keys) return { kind: 'keys-unavailable' };
    const first = await this.verify(token, keys);
    if (first !== 'unknown-key') return first;
    const refreshed = await this.jwks.refreshForUnknownKey();
    const again = refreshed && this.jwks.keys ? await this.verify(token, this.jwks.keys) : first;
    return again === 'unknown-key' ? { kind: 'invalid', detail: 'the token is signed by an unknown key' } : again;
  }

  private async verify(token: string, keys: JWTVerifyGetKey): Promise<TokenCheck | 'unknown-key'> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ['EdDSA'],
        requiredClaims: ['sub', 'exp'],
        clockTolerance: this.settings.clockToleranceS ?? 5,
        ...(this.settings.now ? { currentDate: new Date(this.settings.now()) } : {}),
      });
      const userId = subject.safeParse(payload.sub);
      if (!userId.success) return { kind: 'invalid', detail: 'the token has no usable subject' };
      return { kind: 'valid', userId: userId.data };
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return 'unknown-key';
      if (error instanceof errors.JWTExpired) return { kind: 'invalid', detail: 'the token has expired' };
      if (error instanceof errors.JOSEError) return { kind: 'invalid', detail: 'the token is not valid' };
      throw error;
    }
  }
}
