import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@shop/testing';
import { killProcess, pauseProcess, servicePid } from './process-faults';
import type { Service } from './target';

/**
 * The process faults against real processes that stand in for a service:
 * their command line names the service's entry point, as the supervisor's
 * children do, and their pid is in a pid file like .run/<name>.pid.
 */
const SERVICE: Service = 'payment-service';
let runDir: string;
const children: ChildProcess[] = [];

function standIn(entry = `apps/${SERVICE}/dist/main.js`): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)', entry], {
    detached: true,
    stdio: 'ignore',
  });
  children.push(child);
  writeFileSync(path.join(runDir, `${SERVICE}.pid`), `${child.pid}\n`);
  return child;
}

/** The process state letter from /proc (T = stopped, S/R = running). */
function state(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
}

const target = () => ({ pidFile: (service: Service) => path.join(runDir, `${service}.pid`), url: () => readyUrl });
let readyUrl = '';
let server: http.Server;

beforeAll(async () => {
  runDir = mkdtempSync(path.join(os.tmpdir(), 'chaos-process-'));
  server = http.createServer((_request, response) => response.writeHead(200).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  readyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(runDir, { recursive: true, force: true });
});

describe('process faults', () => {
  it('trusts a pid file only when its process runs the service', () => {
    const other = standIn('apps/order-service/dist/main.js');
    expect(servicePid(target(), SERVICE)).toBeUndefined();
    other.kill('SIGKILL');
    const child = standIn();
    expect(servicePid(target(), SERVICE)).toBe(child.pid);
  });

  it('pause_process stops the process and its rollback resumes it', async () => {
    const child = standIn();
    const pid = child.pid ?? -1;
    const fault = pauseProcess(target(), SERVICE);
    await fault.inject();
    await waitFor('the process to be stopped', () => state(pid) === 'T', { timeoutMs: 5_000 });
    await fault.rollback();
    await waitFor('the process to run again', () => state(pid) !== 'T', { timeoutMs: 5_000 });
    expect(child.exitCode).toBeNull();
  });

  it('kill_process kills -9, and its rollback waits for a new, ready process', async () => {
    const child = standIn();
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    const fault = killProcess(target(), SERVICE, 10_000);
    await fault.inject();
    expect(await exited).toBe('SIGKILL');
    // The supervisor's part: a new process and a new pid file.
    const respawned = standIn();
    await fault.rollback();
    expect(servicePid(target(), SERVICE)).toBe(respawned.pid);
  });

  it('refuses to inject when the service is not running', async () => {
    rmSync(path.join(runDir, `${SERVICE}.pid`), { force: true });
    await expect(killProcess(target(), SERVICE).inject()).rejects.toThrow(
      /payment-service is not running under npm start/,
    );
    // Nothing was injected, so the rollback has nothing to wait for.
    await expect(pauseProcess(target(), SERVICE).rollback()).resolves.toBeUndefined();
  });
});
