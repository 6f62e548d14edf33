import {
  build,
  startApps,
  startInfrastructure,
  stopInfrastructure,
  tokens,
  urlTable,
  waitUntilReady,
  type Say,
} from './run-stack.ts';
import { APPS, appByName } from './apps.ts';
import type { Stack } from './stack.ts';

/**
 * `npm start`: Kafka and PostgreSQL (started or found), provisioning and the
 * build in parallel, then every app under the supervisor; prints the URLs once
 * every /health/ready is 200; on SIGINT/SIGTERM stops the apps, then what it
 * started, and exits.
 */
export async function startCommand(
  stack: Stack,
  options: { build: boolean; only: readonly string[]; say: Say },
): Promise<number> {
  const { say } = options;
  const apps = options.only.length ? options.only.map(appByName) : APPS;
  const began = Date.now();
  const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;
  const [infraResult, buildResult] = await Promise.allSettled([
    startInfrastructure(stack, say),
    options.build ? build(say).then(() => say(`build done (${elapsed()})`)) : Promise.resolve(),
  ]);
  if (infraResult.status === 'rejected') throw infraResult.reason;
  const infra = infraResult.value;
  if (buildResult.status === 'rejected') {
    await stopInfrastructure(stack, infra);
    throw buildResult.reason;
  }
  say(`Kafka ${infra.brokers.join(',')}, PostgreSQL ${infra.postgres.host}:${infra.postgres.port} (${elapsed()})`);
  const chaos = tokens(stack, infra);
  const supervisor = startApps(stack, infra, chaos, say, true, process.env, apps);

  let stopping: Promise<number> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      say(`${signal}: stopping apps`);
      await supervisor.stopAll();
      await stopInfrastructure(stack, infra);
      say('stopped');
      return 0;
    })();
    return stopping;
  };
  const stopped = new Promise<number>((resolve) => {
    process.once('SIGINT', () => void stop('SIGINT').then(resolve));
    process.once('SIGTERM', () => void stop('SIGTERM').then(resolve));
  });

  const timeoutMs = Number(process.env['STACK_READY_TIMEOUT_MS'] ?? 180_000);
  const readiness = waitUntilReady(stack, say, timeoutMs, apps).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const outcome = await Promise.race([readiness, stopped.then(() => 'stopped' as const)]);
  if (outcome === 'stopped') return stopped;
  if (outcome instanceof Error) {
    say(outcome.message);
    await stop('not ready');
    return 1;
  }
  process.stdout.write(`\n${urlTable(stack, chaos, apps)}\n  all ready in ${elapsed()}; Ctrl-C stops everything\n\n`);
  return stopped;
}
