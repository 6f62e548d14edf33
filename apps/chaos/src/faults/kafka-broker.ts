import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Fault } from './fault';
import type { StackTarget } from './target';

export interface CommandResult {
  readonly code: number | null;
  readonly output: string;
}

export type RunCommand = (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<CommandResult>;

export const runCommand: RunCommand = (command, args, env) =>
  new Promise((resolve) => {
    const child = spawn(command, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, output: error.message }));
    child.on('close', (code) => resolve({ code, output }));
  });

/** infra/stack runs from source on Node 24; under npm that is process.execPath, else the node@24 devDependency. */
function node24(root: string): string {
  const major = Number(process.versions.node.split('.')[0]);
  const local = path.join(root, 'node_modules', '.bin', 'node');
  return major >= 24 || !existsSync(local) ? process.execPath : local;
}

/**
 * Stops and starts the stack's broker through the same code path as `npm run
 * kafka:stop` / `kafka:start` (infra/stack/src/main.ts, which apps/chaos may
 * not import). Only a broker that `npm start` runs can be stopped: with
 * KAFKA_BROKERS naming another broker the fault refuses to inject.
 */
export function stopKafka(
  target: Pick<StackTarget, 'id' | 'block' | 'root'>,
  run: RunCommand = runCommand,
  env: NodeJS.ProcessEnv = process.env,
): Fault {
  const stack = (command: string) =>
    run(
      node24(target.root),
      ['--disable-warning=TimeoutNegativeWarning', path.join(target.root, 'infra/stack/src/main.ts'), command],
      {
        ...env,
        STACK_ID: target.id,
        STACK_PORT_BLOCK: String(target.block),
      },
    );
  let stopped = false;
  return {
    kind: 'stop_kafka',
    description: `stop the Kafka broker of stack "${target.id}"`,
    async inject() {
      const result = await stack('kafka:stop');
      if (result.code !== 0) throw new Error(`kafka:stop failed:\n${result.output}`);
      if (!/stopped/.test(result.output)) {
        throw new Error(`stack "${target.id}" has no broker of its own to stop: ${result.output.trim()}`);
      }
      stopped = true;
    },
    async rollback() {
      if (!stopped) return;
      const result = await stack('kafka:start');
      if (result.code !== 0) throw new Error(`kafka:start failed:\n${result.output}`);
    },
  };
}
