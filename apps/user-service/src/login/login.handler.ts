import type pg from 'pg';
import type { PasswordHasher } from '../password/password-hasher';
import { normalizeEmail } from '../user/users.projection';
import type { AccessToken, AccessTokenIssuer } from './access-token';
import type { LoginBody } from './login.dto';
import type { LoginThrottle } from './login-throttle';

export interface Credentials {
  readonly userId: string;
  readonly passwordHash: string;
}

/** Finds the account for a lower-cased email. */
export type CredentialsLookup = (emailLower: string) => Promise<Credentials | undefined>;

export function credentialsFromUsers(pool: pg.Pool): CredentialsLookup {
  return async (emailLower) => {
    const { rows } = await pool.query<{ user_id: string; password_hash: string }>(
      'select user_id, password_hash from users where email_lower = $1',
      [emailLower],
    );
    const row = rows[0];
    return row ? { userId: row.user_id, passwordHash: row.password_hash } : undefined;
  };
}

export type LoginResult =
  | { readonly kind: 'signed-in'; readonly token: AccessToken }
  | { readonly kind: 'invalid-credentials' }
  | { readonly kind: 'throttled'; readonly retryAfterS: number };

/**
 * Email + password → access token. An unknown email and a wrong password get
 * the same answer after the same work (a verification against a dummy hash),
 * so neither the answer nor its timing tells whether an account exists.
 * Throttled per email and per client IP before any work is done.
 */
export class LoginHandler {
  constructor(
    private readonly findCredentials: CredentialsLookup,
    private readonly passwords: Pick<PasswordHasher, 'verify' | 'verifyUnknown'>,
    private readonly throttle: LoginThrottle,
    private readonly tokens: AccessTokenIssuer,
  ) {}

  async login(input: LoginBody, clientIp: string): Promise<LoginResult> {
    const emailLower = normalizeEmail(input.email);
    const decision = this.throttle.attempt(emailLower, clientIp);
    if (!decision.allowed) return { kind: 'throttled', retryAfterS: decision.retryAfterS };
    let credentials: Credentials | undefined;
    try {
      credentials = await this.findCredentials(emailLower);
    } catch (error) {
      // The database failed, not the person: this attempt is not a failed login.
      decision.release();
      throw error;
    }
    const valid = credentials
      ? await this.passwords.verify(input.password, credentials.passwordHash)
      : await this.passwords.verifyUnknown(input.password);
    if (!credentials || !valid) return { kind: 'invalid-credentials' };
    decision.release();
    return { kind: 'signed-in', token: await this.tokens.issue(credentials.userId) };
  }
}
