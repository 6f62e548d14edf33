import { PasswordHasher } from '../password/password-hasher';
import { loadSigningKey } from '../jwks/signing-key';
import { AccessTokenIssuer } from './access-token';
import { type Credentials, LoginHandler } from './login.handler';
import { LoginThrottle } from './login-throttle';

const userId = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const now = Date.parse('2026-03-01T12:00:00.000Z');

async function setup(accounts: Record<string, string> = {}) {
  // Cheap parameters: the handler is under test here, not scrypt.
  const passwords = await PasswordHasher.create({ N: 2 ** 10, r: 8, p: 1 });
  const users = new Map<string, Credentials>();
  for (const [email, password] of Object.entries(accounts)) {
    users.set(email, { userId, passwordHash: await passwords.hash(password) });
  }
  const lookups: string[] = [];
  let failLookups = false;
  const findCredentials = async (emailLower: string) => {
    lookups.push(emailLower);
    if (failLookups) throw new Error('database down');
    return users.get(emailLower);
  };
  const throttle = new LoginThrottle({ maxFailuresPerEmail: 2, maxFailuresPerIp: 10, windowMs: 60_000 }, () => now);
  const tokens = new AccessTokenIssuer(
    await loadSigningKey({ NODE_ENV: 'test' }),
    { issuer: 'iss', audience: 'aud', ttlS: 900 },
    () => now,
  );
  const handler = new LoginHandler(findCredentials, passwords, throttle, tokens);
  return {
    handler,
    passwords,
    lookups,
    failLookups: () => {
      failLookups = true;
    },
  };
}

describe('login handler', () => {
  it('signs in with the right password, whatever the case of the email', async () => {
    const { handler, lookups } = await setup({ 'ada@example.com': 'correct horse' });
    const result = await handler.login({ email: 'Ada@Example.COM', password: 'correct horse' }, '10.0.0.1');
    expect(result).toMatchObject({ kind: 'signed-in', token: { tokenType: 'Bearer', expiresIn: 900 } });
    expect(lookups).toEqual(['ada@example.com']);
  });

  it('answers a wrong password and an unknown email alike, after a verification against a dummy hash', async () => {
    const { handler, passwords } = await setup({ 'ada@example.com': 'correct horse' });
    const verify = jest.spyOn(passwords, 'verify');
    const verifyUnknown = jest.spyOn(passwords, 'verifyUnknown');
    const wrong = await handler.login({ email: 'ada@example.com', password: 'wrong horse' }, '10.0.0.1');
    const unknown = await handler.login({ email: 'nobody@example.com', password: 'wrong horse' }, '10.0.0.1');
    expect(wrong).toEqual({ kind: 'invalid-credentials' });
    expect(unknown).toEqual(wrong);
    expect(verifyUnknown).toHaveBeenCalledWith('wrong horse');
    // verifyUnknown runs a real verify (against its dummy hash): both paths did one scrypt each.
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('throttles failed attempts per email before any lookup or hashing', async () => {
    const { handler, passwords, lookups } = await setup({ 'ada@example.com': 'correct horse' });
    await handler.login({ email: 'ada@example.com', password: 'wrong 1' }, '10.0.0.1');
    await handler.login({ email: 'ADA@example.com', password: 'wrong 2' }, '10.0.0.2');
    const verify = jest.spyOn(passwords, 'verify');
    const result = await handler.login({ email: 'ada@example.com', password: 'correct horse' }, '10.0.0.3');
    expect(result).toEqual({ kind: 'throttled', retryAfterS: 60 });
    expect(lookups).toHaveLength(2);
    expect(verify).not.toHaveBeenCalled();
  });

  it('does not count successful logins, nor attempts the database failed', async () => {
    const { handler, failLookups } = await setup({ 'ada@example.com': 'correct horse' });
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(await handler.login({ email: 'ada@example.com', password: 'correct horse' }, '10.0.0.1')).toMatchObject({
        kind: 'signed-in',
      });
    }
    failLookups();
    for (let attempt = 0; attempt < 5; attempt++) {
      await expect(handler.login({ email: 'ada@example.com', password: 'x' }, '10.0.0.1')).rejects.toThrow(
        'database down',
      );
    }
  });
});
