import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock';
import { JWT_ALGORITHM, type SigningKey } from '../jwks/signing-key';

export interface AccessTokenSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlS: number;
}

export interface AccessToken {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
}

/**
 * Signs access tokens: EdDSA (Ed25519), `kid` in the header so verifiers pick
 * the key from the JWKS, `sub` = userId. The gateway verifies them; nothing
 * else about the user is in the token.
 */
export class AccessTokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly settings: AccessTokenSettings,
    private readonly clock: Clock,
  ) {}

  async issue(userId: string): Promise<AccessToken> {
    const issuedAt = Math.floor(this.clock() / 1000);
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid: this.key.kid, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.settings.ttlS)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    return { accessToken, tokenType: 'Bearer', expiresIn: this.settings.ttlS };
  }
}
