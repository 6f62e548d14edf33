import { spawn } from 'node:child_process';
import path from 'node:path';
import { startCommand } from './start.ts';
import { testCommand } from './test-runner.ts';
import { databaseName, ensurePostgres, provision, whyNotAnswering } from './postgres.ts';
import { kafkaPid, startKafka, stopKafka } from './kafka.ts';
import { appByName } from './apps.ts';
import { root } from './paths.ts';
import { appEnvironment, build, stackTokens } from './run-stack.ts';
import { type Stack, stackFromEnv, stackSecrets } from './stack.ts';

/**
 * The stack's command line (`npm start`, `npm test`, `npm run kafka:stop`, `npm run rebuild`, …).
 * It runs from source: Node 24 strips the types, so there is no build step
 * between a fresh clone and a running broker.
 */
const say = (line: string) => process.stdout.write(`\x1b[2m[stack]\x1b[0m ${line}\n`);

function requireNode24(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    process.stderr.write(
      `Node ${process.versions.node} is too old: this project needs Node 24 or newer.\n` +
        'Run it through npm (npm start, npm test): the node@24 devDependency puts Node 24 on the PATH of npm scripts.\n',
    );
    process.exit(1);
  }
}

/** The services with an event store; each but payment-service has read models to rebuild. */
const REBUILDABLE = ['user-service', 'order-service', 'inventory-service', 'payment-service'] as const;

/**
 * `npm run rebuild -- <service>`: builds the service, then runs its
 * dist/rebuild.js with the environment the supervisor gives it (its own role
 * on its own database), which replays its events into fresh read models, one
 * transaction per read model. Works with the stack running or stopped; the
 * databases must have been provisioned.
 */
async function rebuildCommand(stack: Stack, args: readonly string[]): Promise<number> {
  const [service, ...rest] = args;
  const known = REBUILDABLE.find((name) => name === service);
  if (!known || rest.length) {
    process.stderr.write(`usage: npm run rebuild -- <service>, one of: ${REBUILDABLE.join(', ')}\n`);
    return 2;
  }
  if (known === 'payment-service') {
    say("payment-service has no read models (GET /payments/:orderId folds the payment's stream): nothing to rebuild");
    return 0;
  }
  const app = appByName(known);
  await build(say, path.join('apps', app.name));
  const server = await ensurePostgres(say);
  try {
    const secrets = stackSecrets(stack);
    // The rebuild talks only to its database; the broker is named (not contacted) so the environment is the app's.
    const brokers = (process.env['KAFKA_BROKERS'] ?? `127.0.0.1:${stack.kafkaPort}`).split(',');
    const infra = { brokers, startedKafka: false, postgres: server, secrets };
    const env = appEnvironment(stack, app, infra, stackTokens(secrets));
    const why = await whyNotAnswering(env['DATABASE_URL'] ?? '');
    if (why) {
      throw new Error(
        `cannot open database ${databaseName(stack, app.database ?? '')} as its role (${why}): ` +
          'run `npm run provision` (or `npm start`) first',
      );
    }
    const entry = path.join(root, 'apps', app.name, 'dist', 'rebuild.js');
    const child = spawn(process.execPath, ['--enable-source-maps', entry], { cwd: root, env, stdio: 'inherit' });
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await server.stop?.();
  }
}

async function main(argv: string[]): Promise<number> {
  requireNode24();
  const [command = 'help', ...args] = argv;
  const stack = stackFromEnv();
  switch (command) {
    case 'start':
      return startCommand(stack, {
        build: !args.includes('--no-build'),
        only: args.filter((arg) => !arg.startsWith('--')),
        say,
      });
    case 'test':
      return testCommand(args, say);
    case 'kafka:start': {
      await startKafka(stack, say);
      return 0;
    }
    case 'kafka:stop': {
      const pid = kafkaPid(stack);
      say((await stopKafka(stack)) ? `Kafka (pid ${pid}) stopped` : 'Kafka was not running');
      return 0;
    }
    case 'provision': {
      const server = await ensurePostgres(say);
      await provision(server, stack, stackSecrets(stack));
      say(`provisioned databases and roles of stack "${stack.id}" on ${server.host}:${server.port}`);
      await server.stop?.();
      return 0;
    }
    case 'rebuild':
      return rebuildCommand(stack, args);
    default:
      process.stdout.write(
        'usage: node infra/stack/src/main.ts <start [--no-build] [app…] | test [stage…] | kafka:start | kafka:stop | provision | rebuild <service>>\n',
      );
      return command === 'help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`\x1b[31m[stack] ${error instanceof Error ? error.message : String(error)}\x1b[0m\n`);
    process.exit(1);
  },
);
