import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * 32 MiB and ~100-200 ms per hash on a small machine. Below OWASP's first
 * choice (N=2^17), a trade-off for a reference stack on laptops; the
 * parameters are stored in every hash, so raising them later only affects
 * new hashes and old ones still verify.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r * params.p };
  // NFKC: the same password typed on another keyboard or OS gives the same bytes.
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt>$<key>` (base64url); parameters travel with the hash. */
function format(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key || rest.length > 0) return undefined;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every((value) => Number.isSafeInteger(value) && value > 0)) return undefined;
  return { params, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}

/**
 * Password hashing with node:crypto's scrypt (no native addon), a random salt
 * per hash and a constant-time comparison. `verifyUnknown` spends the same
 * work on a login for an email nobody registered, so the answer's timing
 * does not tell whether an account exists.
 */
export class PasswordHasher {
  private constructor(
    private readonly params: ScryptParams,
    private readonly dummyHash: string,
  ) {}

  static async create(params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<PasswordHasher> {
    const salt = randomBytes(SALT_LENGTH);
    const dummy = format(params, salt, await derive(randomBytes(16).toString('base64url'), salt, params));
    return new PasswordHasher(params, dummy);
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    return format(this.params, salt, await derive(password, salt, this.params));
  }

  /** False for a wrong password and for a stored value that is not one of our hashes. */
  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parse(stored);
    if (!parsed) return false;
    const key = await derive(password, parsed.salt, parsed.params);
    return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
  }

  /** Verifies against a hash of a random password: always false, in the time a real check takes. */
  async verifyUnknown(password: string): Promise<false> {
    await this.verify(password, this.dummyHash);
    return false;
  }
}
