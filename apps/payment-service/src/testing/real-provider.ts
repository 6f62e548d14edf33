import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createTestDatabase, type TestDatabase, waitFor } from '@shop/testing';

/**
 * Test helper (specs only, not part of the build): the real payment-provider
 * (the simulated card processor), run as its own process from its build
 * output, exactly as the supervisor runs it, on a free port with a fresh
 * ledger database. An app never imports another app: it is spoken to over
 * HTTP only, as payment-service speaks to it.
 */
export interface LedgerCharge {
  readonly chargeId: string;
  readonly reference: string;
  readonly amountCents: number;
  readonly refundedCents: number;
  readonly currency: string;
  readonly status: 'captured' | 'declined';
}

export interface RealProvider {
  readonly url: string;
  /** GET /v1/charges?reference=: what the provider holds for an order (what the auditor reads). */
  ledger(reference: string): Promise<LedgerCharge[]>;
  /** POST /v1/charges requests it answered so far, replays included (its own /metrics). */
  chargeCalls(): Promise<number>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../../../..');
const MAIN = path.join(ROOT, 'apps/payment-provider/dist/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRealProvider(): Promise<RealProvider> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} does not exist: build first (npm test -- build int)`);
  const db: TestDatabase = await createTestDatabase('ledger', { max: 1 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      DB_POOL_MAX: '4',
      PAYMENT_PROVIDER_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    await db.drop();
  };

  try {
    await waitFor(
      'payment-provider to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`payment-provider exited with ${child.exitCode}: ${output}`);
        const response = await fetch(`${url}/health/ready`);
        return response.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw new Error(`payment-provider did not start: ${output}`, { cause: error });
  }

  return {
    url,
    async ledger(reference) {
      const response = await fetch(`${url}/v1/charges?reference=${encodeURIComponent(reference)}`);
      if (response.status !== 200) throw new Error(`GET /v1/charges answered ${response.status}`);
      return ((await response.json()) as { items: LedgerCharge[] }).items;
    },
    async chargeCalls() {
      const response = await fetch(`${url}/metrics`);
      if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
      return (await response.text())
        .split('\n')
        .filter(
          (line) =>
            line.startsWith('http_server_request_duration_seconds_count{') &&
            line.includes('method="POST"') &&
            line.includes('route="/v1/charges"'),
        )
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    },
    stop,
  };
}
