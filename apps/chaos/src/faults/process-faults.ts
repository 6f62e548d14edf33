import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from '@shop/testing';
import type { Fault } from './fault';
import type { Service, StackTarget } from './target';

/**
 * Faults on a service's process, found through the pid file the supervisor
 * of `npm start` writes (.run/<name>.pid). A pid is trusted only when that
 * process runs the service's entry point (apps/<name>/dist/main.js), so a
 * stale pid file never makes us signal a stranger.
 */
export function servicePid(target: Pick<StackTarget, 'pidFile'>, service: Service): number | undefined {
  const file = target.pidFile(service);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return command.includes(`apps/${service}/dist/main.js`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function requirePid(target: Pick<StackTarget, 'pidFile'>, service: Service): number {
  const pid = servicePid(target, service);
  if (pid === undefined) {
    throw new Error(`${service} is not running under npm start (no live process in ${target.pidFile(service)})`);
  }
  return pid;
}

/** Signals the process group the supervisor gave the service (it leads it), else the process. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    process.kill(pid, name);
  }
}

/** True once GET /health/ready answers 200. */
export async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * kill -9: no shutdown hooks, in-flight work lost mid-transaction. The
 * supervisor respawns the service (within 5 s); the rollback waits until a new
 * process is up and ready, so the fault window ends at recovery.
 */
export function killProcess(
  target: Pick<StackTarget, 'pidFile' | 'url'>,
  service: Service,
  recoverTimeoutMs = 60_000,
): Fault {
  let killed: number | undefined;
  return {
    kind: 'kill_process',
    description: `kill -9 ${service}`,
    async inject() {
      const pid = requirePid(target, service);
      signal(pid, 'SIGKILL');
      killed = pid;
    },
    async rollback() {
      if (killed === undefined) return;
      const old = killed;
      await waitFor(
        `${service} to be respawned and ready`,
        async () => {
          const pid = servicePid(target, service);
          return pid !== undefined && pid !== old && (await isReady(target.url(service)));
        },
        { timeoutMs: recoverTimeoutMs, intervalMs: 250 },
      );
    },
  };
}

/**
 * SIGSTOP: the process is alive but does nothing (requests hang, its Kafka
 * member stops heartbeating, the supervisor sees no exit). SIGCONT resumes it.
 */
export function pauseProcess(target: Pick<StackTarget, 'pidFile'>, service: Service): Fault {
  let paused: number | undefined;
  return {
    kind: 'pause_process',
    description: `SIGSTOP ${service}`,
    async inject() {
      const pid = requirePid(target, service);
      // Recorded first: if the stop half-worked, the rollback still sends SIGCONT.
      paused = pid;
      signal(pid, 'SIGSTOP');
    },
    async rollback() {
      if (paused === undefined) return;
      try {
        signal(paused, 'SIGCONT');
      } catch (error) {
        // Gone meanwhile (killed by someone else): the supervisor respawns it; nothing is left paused.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
  };
}
