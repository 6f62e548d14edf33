import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { APPS, type AppSpec, urlEnv } from './apps.ts';
import { kafkaAnswers, startKafka, stopKafka } from './kafka.ts';
import { root } from './paths.ts';
import { ensurePostgres, provision, type RunningPostgres, serviceDatabaseUrl } from './postgres.ts';
import { livePid, pollUntil } from './processes.ts';
import { appPort, appUrl, type Stack, stackSecrets, type StackSecrets } from './stack.ts';
import { Supervisor } from './supervisor.ts';

export type Say = (line: string) => void;

export interface Infrastructure {
  readonly brokers: string[];
  /** Whether this run started the broker (and so must stop it). */
  readonly startedKafka: boolean;
  readonly postgres: RunningPostgres;
  readonly secrets: StackSecrets;
}

/**
 * Kafka and PostgreSQL for a stack, started in parallel. KAFKA_BROKERS names a
 * broker to use instead of starting one.
 */
export async function startInfrastructure(stack: Stack, say: Say, env = process.env): Promise<Infrastructure> {
  const secrets = stackSecrets(stack);
  const external = env['KAFKA_BROKERS']
    ?.split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  const kafka = (async () => {
    if (external?.length) {
      if (!(await kafkaAnswers(external, 5_000)))
        throw new Error(`KAFKA_BROKERS=${external.join(',')} does not answer`);
      return { brokers: external, startedKafka: false };
    }
    const running = await startKafka(stack, say);
    return { brokers: running.brokers, startedKafka: running.startedPid !== undefined };
  })();
  const postgres = (async () => {
    const server = await ensurePostgres(say, env);
    await provision(server, stack, secrets);
    return server;
  })();
  const [kafkaResult, postgresResult] = await Promise.allSettled([kafka, postgres]);
  if (kafkaResult.status === 'rejected' || postgresResult.status === 'rejected') {
    if (kafkaResult.status === 'fulfilled' && kafkaResult.value.startedKafka) await stopKafka(stack);
    if (postgresResult.status === 'fulfilled') await postgresResult.value.stop?.();
    const reason =
      kafkaResult.status === 'rejected' ? kafkaResult.reason : (postgresResult as PromiseRejectedResult).reason;
    throw reason;
  }
  return { ...kafkaResult.value, postgres: postgresResult.value, secrets };
}

export async function stopInfrastructure(stack: Stack, infra: Infrastructure): Promise<void> {
  if (infra.startedKafka) await stopKafka(stack);
  await infra.postgres.stop?.();
}

export interface Tokens {
  readonly chaosEnabled: boolean;
  readonly chaosToken: string;
  readonly adminToken: string;
}

/**
 * CHAOS_ENABLED/CHAOS_TOKEN and ADMIN_TOKEN from the environment; without
 * them a local stack turns fault injection on with generated tokens, written to
 * its run folder (docs/contract.md, "Fault injection").
 */
export function tokens(stack: Stack, infra: Infrastructure, env = process.env): Tokens {
  const chaos = stackTokens(infra.secrets, env);
  writeFileSync(path.join(stack.runDir, 'chaos-token'), `${chaos.chaosToken}\n`, { mode: 0o600 });
  writeFileSync(path.join(stack.runDir, 'admin-token'), `${chaos.adminToken}\n`, { mode: 0o600 });
  return chaos;
}

/** The same tokens, without writing them out (for a command that runs one app's tool, not the stack). */
export function stackTokens(secrets: StackSecrets, env = process.env): Tokens {
  return {
    chaosEnabled: env['CHAOS_ENABLED'] === undefined ? true : env['CHAOS_ENABLED'] === 'true',
    chaosToken: env['CHAOS_TOKEN'] ?? secrets.chaosToken,
    adminToken: env['ADMIN_TOKEN'] ?? secrets.adminToken,
  };
}

/** The environment one app starts with: its port, its database, the broker, the other apps' URLs. */
export function appEnvironment(
  stack: Stack,
  app: AppSpec,
  infra: Infrastructure,
  chaos: Tokens,
  env = process.env,
): NodeJS.ProcessEnv {
  const appEnv: NodeJS.ProcessEnv = {
    PATH: env['PATH'],
    HOME: env['HOME'],
    NODE_ENV: env['NODE_ENV'] ?? 'development',
    LOG_LEVEL: env['LOG_LEVEL'] ?? 'info',
    STACK_ID: stack.id,
    HOST: app.public ? (env['GATEWAY_HOST'] ?? '0.0.0.0') : '127.0.0.1',
    [app.portEnv]: String(appPort(stack, app)),
    CHAOS_ENABLED: String(chaos.chaosEnabled),
    CHAOS_TOKEN: chaos.chaosToken,
    ADMIN_TOKEN: chaos.adminToken,
    DB_POOL_MAX: env['DB_POOL_MAX'] ?? (stack.block === 0 ? '6' : '3'),
  };
  for (const other of APPS) appEnv[urlEnv(other)] = appUrl(stack, other);
  if (app.database) appEnv['DATABASE_URL'] = serviceDatabaseUrl(infra.postgres, stack, infra.secrets, app.database);
  if (app.kafka) appEnv['KAFKA_BROKERS'] = infra.brokers.join(',');
  if (app.signsTokens) appEnv['JWT_PRIVATE_KEY'] = env['JWT_PRIVATE_KEY'] ?? infra.secrets.jwtPrivateKey;
  for (const passThrough of [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'REDIS_URL',
    'SAGA_TIMEOUT_MS',
    'SAGA_STEP_TIMEOUT_MS',
    'FALLBACK_MAX_AGE_S',
    'RATE_LIMIT_PER_IP_PER_MIN',
    'RATE_LIMIT_PER_USER_PER_MIN',
    'NODE_OPTIONS',
    'UNSAFE_REMOVE_PATTERNS',
  ]) {
    if (env[passThrough] !== undefined) appEnv[passThrough] = env[passThrough];
  }
  return appEnv;
}

/**
 * Compiles every app and lib (TypeScript project references, incremental), or
 * one project (`apps/order-service`) and the libs it references.
 */
export function build(say: Say, project = 'tsconfig.json'): Promise<void> {
  say(project === 'tsconfig.json' ? 'building apps and libs (tsc -b)' : `building ${project} (tsc -b)`);
  return new Promise((resolve, reject) => {
    const tsc = spawn(process.execPath, [path.join(root, 'node_modules', '.bin', 'tsc'), '-b', project], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    tsc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    tsc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    tsc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build failed:\n${output}`))));
  });
}

/**
 * The Node flags every app runs with, here and in the image (infra/docker/Dockerfile, whose
 * test holds them equal):
 * - kafkajs 2.2.4 schedules negative timeouts on Node 24 (tulios/kafkajs#1751); harmless, so
 *   silenced.
 * - A 4 MB young generation (V8 lets it grow to 32 MB per semi-space under load) keeps each
 *   service about 120 MB smaller under load for a few per cent more CPU (bench/README.md).
 * - After a full collection the old generation may grow by a quarter of its live size before
 *   the next one (V8 picks up to four times on a small heap, and under load the gateway and
 *   the card processor carried 50 to 60 MB of garbage). From half to a quarter took 8 to 16 MB
 *   off order-service and payment-service at 150 orders/s, for no CPU the runs could tell.
 */
export const APP_NODE_FLAGS = [
  '--disable-warning=TimeoutNegativeWarning',
  '--max-semi-space-size=4',
  '--heap-growing-percent=25',
] as const;

export function startApps(
  stack: Stack,
  infra: Infrastructure,
  chaos: Tokens,
  say: Say,
  echo: boolean,
  env = process.env,
  apps: readonly AppSpec[] = APPS,
): Supervisor {
  const supervisor = new Supervisor({ runDir: stack.runDir, logsDir: stack.logsDir, say, echo });
  for (const app of apps) {
    const entry = path.join(root, 'apps', app.name, 'dist', 'main.js');
    stopStale(stack, app.name, entry, say);
    supervisor.start({
      name: app.name,
      command: process.execPath,
      // The OpenTelemetry SDK must load before the app's modules, so it can instrument them.
      // Source maps: the preload turns them on for this project's code only.
      args: [...APP_NODE_FLAGS, '--require', path.join(root, 'libs', 'observability', 'dist', 'preload.js'), entry],
      env: appEnvironment(stack, app, infra, chaos, env),
      cwd: root,
    });
  }
  return supervisor;
}

/** An app left running by a supervisor that was killed (its pid file names it): stop it. */
function stopStale(stack: Stack, name: string, entry: string, say: Say): void {
  const pid = livePid(path.join(stack.runDir, `${name}.pid`), entry);
  if (pid === undefined) return;
  say(`stopping ${name} (pid ${pid}) left over from an earlier run`);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Waits until every app's /health/ready answers 200, showing who is still
 * missing; fails after the deadline naming those apps.
 */
export async function waitUntilReady(
  stack: Stack,
  say: Say,
  timeoutMs: number,
  apps: readonly AppSpec[] = APPS,
): Promise<void> {
  const started = Date.now();
  const pending = new Set(apps.map((app) => app.name));
  let lastReport = 0;
  const ready = await pollUntil(
    async () => {
      await Promise.all(
        APPS.filter((app) => pending.has(app.name)).map(async (app) => {
          if (await answers(`${appUrl(stack, app)}/health/ready`)) pending.delete(app.name);
        }),
      );
      if (pending.size > 0 && Date.now() - lastReport >= 3_000) {
        lastReport = Date.now();
        say(`waiting for /health/ready of ${[...pending].join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`);
      }
      return pending.size === 0;
    },
    { timeoutMs, intervalMs: 250 },
  );
  if (!ready) {
    throw new Error(
      `not ready after ${timeoutMs / 1000} s: ${[...pending].join(', ')}; see ${path.relative(root, stack.logsDir)}/<name>.log`,
    );
  }
}

export function urlTable(stack: Stack, chaos: Tokens, apps: readonly AppSpec[] = APPS): string {
  const rows = apps.map((app) => `  ${app.name.padEnd(18)} ${appUrl(stack, app)}`);
  const gateway = apps.find((app) => app.public);
  return [
    'stack ready:',
    ...rows,
    ...(gateway ? [`  ${'API'.padEnd(18)} ${appUrl(stack, gateway)}/api/v1`] : []),
    `  logs               ${path.relative(root, stack.logsDir)}/<name>.log`,
    chaos.chaosEnabled
      ? `  chaos token        ${chaos.chaosToken} (also in ${path.relative(root, stack.runDir)}/chaos-token)`
      : '  fault injection    off',
  ].join('\n');
}
