import { audit } from './audit/invariants';
import { deadLetterCounts } from './faults/message-faults';
import { restock } from './faults/restock';
import { resolveStack } from './faults/target';
import { LOAD_USAGE, runLoadCommand } from './load/load.command';
import { EXPERIMENT_USAGE, listCommand, runCommand, validateCommand } from './experiments/experiments.command';

/**
 * The chaos toolkit's command line (`npm run chaos -- <command>`). `audit`
 * checks the business invariants of docs/contract.md over a running (or
 * stopped) stack's databases; the experiments and the load generator plug
 * into the same entry point.
 */
const USAGE = `usage: npm run chaos -- <command>

commands:
  audit [--stack <id>] [--block <n>] [--grace-ms <ms>]
                     check the business invariants of docs/contract.md over every
                     order of a stack (default: the npm start stack, "shop");
                     exits 1 on a violation
  restock --to <units> [--stack <id>] [--block <n>]
                     top every SKU of a stack up to <units> (a stock delivery per SKU
                     below it, through inventory-service's admin API)
${LOAD_USAGE}${EXPERIMENT_USAGE}  help               this text

environment:
  CHAOS_ADMIN_DATABASE_URL   a connection that may read every service database
                             (default postgres://postgres@127.0.0.1:5432/postgres)
`;

function option(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
}

async function runAudit(argv: readonly string[]): Promise<number> {
  const stackId = option(argv, '--stack') ?? process.env['STACK_ID'] ?? 'shop';
  const adminUrl =
    process.env['CHAOS_ADMIN_DATABASE_URL'] ??
    `postgres://${process.env['PGUSER'] ?? 'postgres'}@${process.env['PGHOST'] ?? '127.0.0.1'}:${process.env['PGPORT'] ?? '5432'}/postgres`;
  // Invariant 1 allows PENDING for the saga timeout plus a relay interval.
  const pendingGraceMs = Number(option(argv, '--grace-ms') ?? Number(process.env['SAGA_TIMEOUT_MS'] ?? 30_000) + 1_000);
  const report = await audit({ adminUrl, stackId, pendingGraceMs });
  const orders = Object.entries(report.counts.orders)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  process.stdout.write(
    `stack "${stackId}": orders ${orders || 'none'}; ${report.counts.skus} SKUs; ` +
      `${report.counts.streamsChecked} streams; ${report.counts.pendingOutbox} outbox rows pending\n` +
      `  money: ${report.counts.capturedCents} cents captured, ${report.counts.refundedCents} refunded\n`,
  );
  for (const [sku, stock] of Object.entries(report.counts.stock)) {
    process.stdout.write(`  ${sku}: received ${stock.received}, available ${stock.available}, held ${stock.held}\n`);
  }
  // Dead letters are not violations (a rejected poison message is the consumer doing its job), but they are counted.
  const block = option(argv, '--block');
  const { brokers } = resolveStack({ id: stackId, block: block === undefined ? undefined : Number(block) });
  const deadLetters = await deadLetterCounts(brokers, stackId).catch((error: unknown) =>
    error instanceof Error ? error.message : String(error),
  );
  process.stdout.write(
    typeof deadLetters === 'string'
      ? `  dead letters: not counted (broker: ${deadLetters})\n`
      : `  dead letters: ${
          Object.entries(deadLetters)
            .map(([topic, count]) => `${topic} ${count}`)
            .join(', ') || 'no dead-letter topic'
        }\n`,
  );
  for (const violation of report.violations) process.stdout.write(`  VIOLATION ${violation}\n`);
  process.stdout.write(
    report.violations.length === 0 ? 'invariants hold\n' : `${report.violations.length} violation(s)\n`,
  );
  return report.violations.length === 0 ? 0 : 1;
}

async function runRestock(argv: readonly string[]): Promise<number> {
  const to = Number(option(argv, '--to'));
  if (!Number.isInteger(to) || to <= 0) throw new Error('restock: --to must be a positive whole number of units');
  const block = option(argv, '--block');
  const target = resolveStack({ id: option(argv, '--stack'), block: block === undefined ? undefined : Number(block) });
  const restocked = await restock(target, to);
  process.stdout.write(`restocked ${restocked} SKUs of stack "${target.id}" to ${to} units\n`);
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    case 'audit':
      return runAudit(rest);
    case 'load':
      return runLoadCommand(rest);
    case 'restock':
      return runRestock(rest);
    case 'run':
      return runCommand(rest);
    case 'list':
      return listCommand();
    case 'validate':
      return validateCommand(rest);
    default:
      process.stderr.write(`chaos: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
