import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { ensureDir } from './paths.ts';
import { isAlive, pollUntil, removeFile, terminate, writePid } from './processes.ts';

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface SupervisorOptions {
  readonly runDir: string;
  readonly logsDir: string;
  /** Writes a line for the person at the terminal. */
  readonly say: (line: string) => void;
  /** Copies each output line of a process to the console (prefixed); off in tests. */
  readonly echo: boolean;
  /** Upper bound of the respawn backoff (docs/contract.md: within 5 s). */
  readonly maxBackoffMs?: number;
}

interface Managed {
  readonly spec: ProcessSpec;
  child: ChildProcess | undefined;
  log: WriteStream;
  restarts: number;
  startedAt: number;
  /** Last lines written to stderr, kept to say why a process died. */
  recentErrors: string[];
  respawnTimer: NodeJS.Timeout | undefined;
}

const COLORS = [36, 33, 35, 32, 34, 91, 96];

/**
 * Keeps a set of processes running: writes each one's output to
 * logs/<name>.log (and a prefixed copy to the console), its pid to
 * .run/<name>.pid, and respawns it when it dies, with an exponential backoff
 * capped at 5 s. Each child leads its own process group, so stopping it stops
 * whatever it started, and a Ctrl-C in the terminal reaches only the
 * supervisor, which then stops the children in order.
 */
export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private stopping = false;
  private readonly maxBackoffMs: number;
  private readonly options: SupervisorOptions;

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    ensureDir(options.runDir);
    ensureDir(options.logsDir);
  }

  start(spec: ProcessSpec): void {
    if (this.managed.has(spec.name)) throw new Error(`${spec.name} is already supervised`);
    const entry: Managed = {
      spec,
      child: undefined,
      log: createWriteStream(path.join(this.options.logsDir, `${spec.name}.log`), { flags: 'a' }),
      restarts: 0,
      startedAt: 0,
      recentErrors: [],
      respawnTimer: undefined,
    };
    this.managed.set(spec.name, entry);
    this.spawn(entry);
  }

  pid(name: string): number | undefined {
    return this.managed.get(name)?.child?.pid;
  }

  names(): string[] {
    return [...this.managed.keys()];
  }

  private pidFile(name: string): string {
    return path.join(this.options.runDir, `${name}.pid`);
  }

  private spawn(entry: Managed): void {
    const { spec } = entry;
    entry.startedAt = Date.now();
    entry.recentErrors = [];
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    if (child.pid !== undefined) writePid(this.pidFile(spec.name), child.pid);
    const color = COLORS[[...this.managed.keys()].indexOf(spec.name) % COLORS.length] ?? 36;
    const prefix = `\x1b[${color}m${spec.name.padEnd(18)}\x1b[0m| `;
    const forward = (stream: NodeJS.ReadableStream, isErr: boolean) => {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        entry.log.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (isErr) entry.recentErrors = [...entry.recentErrors.slice(-9), line];
          if (this.options.echo) process.stdout.write(prefix + humanize(line) + '\n');
        }
      });
    };
    if (child.stdout) forward(child.stdout, false);
    if (child.stderr) forward(child.stderr, true);
    child.on('error', (error) => this.options.say(`${spec.name}: could not start: ${error.message}`));
    child.on('exit', (code, signal) => this.onExit(entry, child, code, signal));
  }

  private onExit(entry: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (entry.child !== child) return;
    entry.child = undefined;
    removeFile(this.pidFile(entry.spec.name));
    if (this.stopping) return;
    // A process that stayed up a while starts over at the shortest backoff.
    if (Date.now() - entry.startedAt > 30_000) entry.restarts = 0;
    const delayMs = Math.min(this.maxBackoffMs, 250 * 2 ** entry.restarts);
    entry.restarts += 1;
    const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const detail = entry.recentErrors.length
      ? `; last error output:\n    ${entry.recentErrors.slice(-3).join('\n    ')}`
      : '';
    this.options.say(`${entry.spec.name} ${why}${detail}\n  respawning in ${(delayMs / 1000).toFixed(2)} s`);
    entry.respawnTimer = setTimeout(() => {
      entry.respawnTimer = undefined;
      if (!this.stopping) this.spawn(entry);
    }, delayMs);
  }

  /** Stops every process (SIGTERM, SIGKILL after the grace period), newest first. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const entries = [...this.managed.values()].reverse();
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.respawnTimer) clearTimeout(entry.respawnTimer);
        const pid = entry.child?.pid;
        if (pid !== undefined) {
          await terminate(pid, graceMs);
          await pollUntil(() => entry.child === undefined || !isAlive(pid), { timeoutMs: 2_000 });
        }
        removeFile(this.pidFile(entry.spec.name));
        await new Promise<void>((resolve) => entry.log.end(resolve));
      }),
    );
  }
}

/** One pino JSON line → "LEVEL message"; anything else is shown as it is. */
function humanize(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const record = JSON.parse(line) as { level?: number | string; msg?: string; err?: { message?: string } };
    const levels: Record<number, string> = {
      10: 'TRACE',
      20: 'DEBUG',
      30: 'INFO',
      40: 'WARN',
      50: 'ERROR',
      60: 'FATAL',
    };
    const level = typeof record.level === 'number' ? (levels[record.level] ?? record.level) : (record.level ?? '');
    const error = record.err?.message ? ` (${record.err.message})` : '';
    return `${String(level).padEnd(5)} ${record.msg ?? ''}${error}`;
  } catch {
    return line;
  }
}
