import { DEFAULT_SCRYPT_PARAMS, PasswordHasher } from './password-hasher';

describe('password hasher (scrypt)', () => {
  let hasher: PasswordHasher;

  beforeAll(async () => {
    hasher = await PasswordHasher.create();
  });

  it('verifies the password it hashed, and refuses any other', async () => {
    const hash = await hasher.hash('correct horse battery');
    expect(await hasher.verify('correct horse battery', hash)).toBe(true);
    expect(await hasher.verify('correct horse batterY', hash)).toBe(false);
    expect(await hasher.verify('', hash)).toBe(false);
  });

  it('salts every hash, stores its parameters, and never contains the password', async () => {
    const first = await hasher.hash('correct horse battery');
    const second = await hasher.hash('correct horse battery');
    expect(first).not.toBe(second);
    const { N, r, p } = DEFAULT_SCRYPT_PARAMS;
    expect(first).toMatch(new RegExp(`^scrypt\\$${N}\\$${r}\\$${p}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    expect(first).not.toContain('correct');
  });

  it('verifies hashes made with other parameters (they travel with the hash)', async () => {
    const cheap = await PasswordHasher.create({ N: 2 ** 10, r: 8, p: 1 });
    const hash = await cheap.hash('an older, cheaper hash');
    expect(hash.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await hasher.verify('an older, cheaper hash', hash)).toBe(true);
  });

  it('runs at most `concurrency` hashes at a time; the others wait their turn and all finish', async () => {
    const limited = await PasswordHasher.create({ N: 2 ** 12, r: 8, p: 1 }, 2);
    const hashes = Array.from({ length: 5 }, (_, i) => limited.hash(`password number ${i}`));
    expect(limited.load).toEqual({ running: 2, waiting: 3 });
    const seen: Array<{ running: number; waiting: number }> = [];
    const all = Promise.all(hashes.map((hashed) => hashed.then(() => seen.push({ ...limited.load }))));
    await all;
    expect(Math.max(...seen.map((load) => load.running))).toBeLessThanOrEqual(2);
    expect(limited.load).toEqual({ running: 0, waiting: 0 });
    const [, , , fourth] = await Promise.all(hashes);
    expect(await limited.verify('password number 3', fourth ?? '')).toBe(true);
  });

  it('refuses a concurrency below one', async () => {
    await expect(PasswordHasher.create({ N: 2 ** 10, r: 8, p: 1 }, 0)).rejects.toThrow(RangeError);
  });

  it('treats a unicode password the same in composed and decomposed form (NFKC)', async () => {
    const hash = await hasher.hash('caf\u00e9 au lait');
    expect(await hasher.verify('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('answers false for a stored value that is not one of its hashes', async () => {
    for (const stored of ['', 'plain', 'scrypt$x$8$1$a$b', 'bcrypt$2$8$1$a$b', 'scrypt$1024$8$1$a']) {
      expect(await hasher.verify('whatever1', stored)).toBe(false);
    }
  });

  it('spends a real verification (against a dummy hash) on an unknown account, and always refuses', async () => {
    const verify = jest.spyOn(hasher, 'verify');
    expect(await hasher.verifyUnknown('whatever1')).toBe(false);
    const { N, r, p } = DEFAULT_SCRYPT_PARAMS;
    expect(verify).toHaveBeenCalledWith(
      'whatever1',
      expect.stringMatching(new RegExp(`^scrypt\\$${N}\\$${r}\\$${p}\\$`)),
    );
    verify.mockRestore();
  });
});
