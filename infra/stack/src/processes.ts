import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a live process, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

export function writePid(file: string, pid: number): void {
  writeFileSync(file, `${pid}\n`);
}

/**
 * The pid in a pid file, but only when that process is still alive and its
 * command line contains `marker` (a pid file left by a killed run may name a
 * pid the system has since given to something else).
 */
export function livePid(file: string, marker: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmd = commandLine(pid);
  return cmd !== undefined && cmd.includes(marker) ? pid : undefined;
}

/** Polls `condition` until it is true or the deadline passes. */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await delay(intervalMs);
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. Signals the whole process group when
 * the process leads one (every child we spawn does), so nothing it started
 * survives it.
 */
export async function terminate(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid)) return;
  signal('SIGTERM');
  if (await pollUntil(() => !isAlive(pid), { timeoutMs: graceMs })) return;
  signal('SIGKILL');
  await pollUntil(() => !isAlive(pid), { timeoutMs: 5_000 });
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}
