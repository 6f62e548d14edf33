import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { appByName } from './apps.ts';
import { root } from './paths.ts';
import { isAlive, livePid, pollUntil } from './processes.ts';
import { appUrl, findFreeBlock, stackFor, stackFromEnv } from './stack.ts';

/**
 * The supervisor for real: `start` brings a whole stack up (on its own id and
 * port block, next to the test run's broker and database), a `kill -9`ed app
 * comes back within 5 s and answers within 15 s, and a SIGTERM to the
 * supervisor leaves no process behind.
 */
const testStack = stackFromEnv();

/** Every descendant of `pid`, through /proc (children lead their own process groups, so `ps --ppid` of the group is not enough). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      /* exited while we looked */
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

async function liveAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

describe('supervisor (npm start)', () => {
  let supervisor: ChildProcess;
  let output = '';
  let stack: ReturnType<typeof stackFor>;

  beforeAll(async () => {
    stack = stackFor(`${testStack.id}sup`.slice(0, 16), await findFreeBlock(testStack.block + 1));
    supervisor = spawn(
      process.execPath,
      ['--disable-warning=TimeoutNegativeWarning', 'infra/stack/src/main.ts', 'start', '--no-build'],
      {
        cwd: root,
        env: {
          ...process.env,
          STACK_ID: stack.id,
          STACK_PORT_BLOCK: String(stack.block),
          DATABASE_URL: process.env['TEST_ADMIN_DATABASE_URL'],
          DB_POOL_MAX: '2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    supervisor.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    supervisor.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = await pollUntil(() => output.includes('all ready') || supervisor.exitCode !== null, {
      timeoutMs: 150_000,
    });
    if (!ready || !output.includes('all ready')) throw new Error(`the stack did not come up:\n${output}`);
  }, 180_000);

  afterAll(async () => {
    if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
  });

  it('prints every URL once all apps are ready', () => {
    for (const name of ['gateway', 'order-service', 'payment-provider']) {
      expect(output).toContain(`${name.padEnd(18)} ${appUrl(stack, appByName(name))}`);
    }
  });

  it('respawns a kill -9ed app within 5 s, answering /health/live within 15 s', async () => {
    const pidFile = path.join(stack.runDir, 'order-service.pid');
    const marker = 'apps/order-service/dist/main.js';
    const victim = livePid(pidFile, marker);
    expect(victim).toBeDefined();
    const killedAt = Date.now();
    process.kill(victim as number, 'SIGKILL');

    let respawned: number | undefined;
    const back = await pollUntil(
      () => {
        respawned = livePid(pidFile, marker);
        return respawned !== undefined && respawned !== victim;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(back).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(output).toMatch(/order-service killed by SIGKILL/);

    const answering = await pollUntil(() => liveAnswers(appUrl(stack, appByName('order-service'))), {
      timeoutMs: 15_000 - (Date.now() - killedAt),
      intervalMs: 100,
    });
    expect(answering).toBe(true);
  }, 30_000);

  it('leaves no process behind after SIGTERM', async () => {
    const children = descendants(supervisor.pid as number);
    expect(children.length).toBeGreaterThanOrEqual(6);
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    supervisor.kill('SIGTERM');
    expect(await exited).toBe(0);
    const gone = await pollUntil(() => children.every((pid) => !isAlive(pid)), { timeoutMs: 15_000 });
    expect(children.filter(isAlive)).toEqual([]);
    expect(gone).toBe(true);
  }, 60_000);
});
