import { spawn } from 'node:child_process';
import path from 'node:path';
import { findRoot } from './root';

/**
 * Stops or starts the test run's own Kafka broker (never the one `npm start`
 * uses: the stack id and port block of the test run select it), through the
 * same commands a person uses: `npm run kafka:stop` / `kafka:start`.
 */
function stackCommand(command: 'kafka:stop' | 'kafka:start'): Promise<void> {
  const root = findRoot();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=TimeoutNegativeWarning', path.join(root, 'infra/stack/src/main.ts'), command],
      { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed:\n${output}`))));
  });
}

export function stopTestBroker(): Promise<void> {
  if (!process.env['STACK_PORT_BLOCK'] || process.env['STACK_PORT_BLOCK'] === '0') {
    throw new Error('refusing to stop a broker outside a test stack (STACK_PORT_BLOCK must name a test block)');
  }
  return stackCommand('kafka:stop');
}

export function startTestBroker(): Promise<void> {
  return stackCommand('kafka:start');
}
