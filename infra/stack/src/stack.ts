import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { APPS, type AppSpec } from './apps.ts';
import { ensureDir, root } from './paths.ts';
import { isAlive } from './processes.ts';

/**
 * A stack is one running copy of the system: its apps, its Kafka topics and
 * consumer groups, its databases and roles. The stack id prefixes every one of
 * those names, and the stack's port block keeps its ports apart, so the test
 * suite can run while `npm start` is up.
 *
 * Block 0 is the development stack of docs/contract.md (apps on 3000-3005, Kafka on
 * 9092). Block n moves every port by n × 10000 (apps 13000-13005 and Kafka
 * 19092 for block 1).
 */
export const DEV_STACK_ID = 'shop';

export interface Stack {
  readonly id: string;
  readonly block: number;
  /** Where this stack keeps pid files, its chaos token and secrets. */
  readonly runDir: string;
  readonly logsDir: string;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
}

export function stackFor(id: string, block: number): Stack {
  if (!/^[a-z][a-z0-9]{0,15}$/.test(id)) {
    throw new Error(`stack id "${id}" must be 1-16 lowercase letters or digits, starting with a letter`);
  }
  const isDev = block === 0 && id === DEV_STACK_ID;
  return {
    id,
    block,
    runDir: isDev ? path.join(root, '.run') : path.join(root, '.run', 'stacks', id),
    logsDir: isDev ? path.join(root, 'logs') : path.join(root, 'logs', id),
    kafkaPort: 9092 + block * 10000,
    kafkaControllerPort: 9093 + block * 10000,
  };
}

/** The development stack, or the one named by STACK_ID / STACK_PORT_BLOCK. */
export function stackFromEnv(env: NodeJS.ProcessEnv = process.env): Stack {
  const block = env['STACK_PORT_BLOCK'] === undefined ? 0 : Number(env['STACK_PORT_BLOCK']);
  if (!Number.isInteger(block) || block < 0 || block > 5) {
    throw new Error(`STACK_PORT_BLOCK must be an integer 0..5, got "${env['STACK_PORT_BLOCK']}"`);
  }
  return stackFor(env['STACK_ID'] ?? DEV_STACK_ID, block);
}

export function appPort(stack: Stack, app: AppSpec, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = stack.block === 0 ? env[app.portEnv] : undefined;
  return fromEnv ? Number(fromEnv) : 3000 + stack.block * 10000 + app.portOffset;
}

export function appUrl(stack: Stack, app: AppSpec): string {
  return `http://127.0.0.1:${appPort(stack, app)}`;
}

/** True when nothing listens on 127.0.0.1:port. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Claims the first block from `from` on whose ports are all free, for this
 * process: a lock file per block (holding our pid) keeps two test runs that
 * start at the same moment from choosing the same block. A lock whose process
 * is gone is taken over.
 */
export async function findFreeBlock(from = 1): Promise<number> {
  const locks = ensureDir(path.join(root, '.run', 'blocks'));
  for (let block = from; block <= 5; block++) {
    const lock = path.join(locks, `${block}.lock`);
    if (!claim(lock)) continue;
    const probe = stackFor('probe', block);
    const ports = [...APPS.map((app) => appPort(probe, app, {})), probe.kafkaPort, probe.kafkaControllerPort];
    const free = await Promise.all(ports.map(portIsFree));
    if (free.every(Boolean)) return block;
    rmSync(lock, { force: true });
  }
  throw new Error('no free port block among 1..5: stop another test run or free the ports');
}

function claim(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const holder = Number(readFileSync(lock, 'utf8'));
    if (holder === process.pid) return true;
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) return false;
    writeFileSync(lock, String(process.pid));
    return true;
  }
}

/** Gives a claimed block back. */
export function releaseBlock(block: number): void {
  const lock = path.join(root, '.run', 'blocks', `${block}.lock`);
  if (existsSync(lock) && Number(readFileSync(lock, 'utf8')) === process.pid) rmSync(lock, { force: true });
}

export interface StackSecrets {
  /** Password of each service's database role, keyed by database name. */
  readonly databasePasswords: Record<string, string>;
  readonly chaosToken: string;
  readonly adminToken: string;
  /** The Ed25519 key user-service signs tokens with (PKCS#8 PEM), kept so tokens survive a restart. */
  readonly jwtPrivateKey: string;
}

/**
 * Secrets for a local stack: generated once and kept in its run folder (mode
 * 0600), so a restart keeps the same role passwords. Production never comes
 * here: its secrets come from the environment.
 */
export function stackSecrets(stack: Stack): StackSecrets {
  const file = path.join(ensureDir(stack.runDir), 'secrets.json');
  const token = () => randomBytes(18).toString('base64url');
  let secrets: StackSecrets | undefined;
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as StackSecrets;
  const passwords = { ...(secrets?.databasePasswords ?? {}) };
  let changed = !secrets;
  for (const app of APPS) {
    if (app.database && !passwords[app.database]) {
      passwords[app.database] = token();
      changed = true;
    }
  }
  const next: StackSecrets = {
    databasePasswords: passwords,
    chaosToken: secrets?.chaosToken ?? token(),
    adminToken: secrets?.adminToken ?? token(),
    jwtPrivateKey:
      secrets?.jwtPrivateKey ??
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  changed ||= !secrets?.jwtPrivateKey;
  if (changed) writeFileSync(file, JSON.stringify(next, null, 2), { mode: 0o600 });
  return next;
}
