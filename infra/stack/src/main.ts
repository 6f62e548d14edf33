import { startCommand } from './start.ts';
import { testCommand } from './test-runner.ts';
import { ensurePostgres, provision } from './postgres.ts';
import { kafkaPid, startKafka, stopKafka } from './kafka.ts';
import { stackFromEnv, stackSecrets } from './stack.ts';

/**
 * The stack's command line (`npm start`, `npm test`, `npm run kafka:stop`, …).
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
    default:
      process.stdout.write(
        'usage: node infra/stack/src/main.ts <start [--no-build] [app…] | test [stage…] | kafka:start | kafka:stop | provision>\n',
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
