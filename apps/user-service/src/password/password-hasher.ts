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

/**
 * Hashes computed at once, each holding its 128·N·r bytes (32 MiB by
 * default) while it runs. Unbounded, a burst of sign-ups or logins ran one
 * per libuv thread (four) and took the service past 250 MB; one at a time
 * keeps it near 140 MB, for 5 to 10 hashes per second per instance on a
 * small machine (sign-ups and logins are rate limited well below that per
 * client). The rest wait their turn, in order.
 */
export const DEFAULT_HASH_CONCURRENCY = 1;

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
  private hashing = 0;
  private readonly waiting: Array<() => void> = [];

  private constructor(
    private readonly params: ScryptParams,
    private readonly dummyHash: string,
    private readonly concurrency: number,
  ) {}

  static async create(
    params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
    concurrency = DEFAULT_HASH_CONCURRENCY,
  ): Promise<PasswordHasher> {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be at least 1');
    const salt = randomBytes(SALT_LENGTH);
    const dummy = format(params, salt, await derive(randomBytes(16).toString('base64url'), salt, params));
    return new PasswordHasher(params, dummy, concurrency);
  }

  /** Hashes running now, and hashes waiting for one of them to finish. */
  get load(): { readonly running: number; readonly waiting: number } {
    return { running: this.hashing, waiting: this.waiting.length };
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    return format(this.params, salt, await this.derive(password, salt, this.params));
  }

  /** False for a wrong password and for a stored value that is not one of our hashes. */
  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parse(stored);
    if (!parsed) return false;
    const key = await this.derive(password, parsed.salt, parsed.params);
    return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
  }

  /** scrypt, at most `concurrency` at a time; a finished hash hands its turn to the longest waiting one. */
  private async derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
    if (this.hashing < this.concurrency) this.hashing += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await derive(password, salt, params);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.hashing -= 1;
    }
  }

  /** Verifies against a hash of a random password: always false, in the time a real check takes. */
  async verifyUnknown(password: string): Promise<false> {
    await this.verify(password, this.dummyHash);
    return false;
  }
}
