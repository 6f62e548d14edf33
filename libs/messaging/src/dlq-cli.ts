import { parseArgs } from 'node:util';
import { createKafka, scoped } from './kafka';
import { inspectDlq, redriveDlq, type DeadLetter } from './dlq';

/**
 * `npm run dlq -- inspect order.events [--limit 20]` prints the dead letters
 * of a topic, one JSON object per line; `npm run dlq -- redrive order.events`
 * puts them back on the topic. The topic is the contract name; STACK_ID
 * (default shop) prefixes it and KAFKA_BROKERS names the broker, as for the services.
 */
export interface DlqCommand {
  readonly action: 'inspect' | 'redrive';
  readonly topic: string;
  readonly limit: number;
}

const USAGE = 'usage: dlq <inspect|redrive> <topic> [--limit N]   (env: KAFKA_BROKERS, STACK_ID)';

export function parseDlqCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DlqCommand {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { limit: { type: 'string', default: '100' } },
  });
  const [action, topic, ...rest] = positionals;
  const limit = Number(values.limit);
  if (
    (action !== 'inspect' && action !== 'redrive') ||
    !topic ||
    rest.length ||
    !Number.isInteger(limit) ||
    limit < 1
  ) {
    throw new Error(USAGE);
  }
  return { action, topic: scoped(env['STACK_ID'] || 'shop', topic), limit };
}

function line(deadLetter: DeadLetter): string {
  const { dlqPartition, dlqOffset, reason, error, originalTopic, originalPartition, originalOffset, failedAt } =
    deadLetter;
  return `${JSON.stringify({
    dlqPartition,
    dlqOffset,
    reason,
    error,
    originalTopic,
    originalPartition,
    originalOffset,
    failedAt,
    consumerGroup: deadLetter.consumerGroup,
    key: deadLetter.key,
    value: deadLetter.value,
  })}\n`;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let command: DlqCommand;
  try {
    command = parseDlqCommand(argv, env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const kafka = createKafka({ brokers: (env['KAFKA_BROKERS'] || '127.0.0.1:9092').split(','), clientId: 'dlq-cli' });
  if (command.action === 'inspect') {
    const deadLetters = await inspectDlq(kafka, command.topic, { limit: command.limit });
    for (const deadLetter of deadLetters) process.stdout.write(line(deadLetter));
    process.stdout.write(`${deadLetters.length} dead letter(s) in ${command.topic}.dlq\n`);
  } else {
    const { redriven, consumerGroup } = await redriveDlq(kafka, command.topic, { limit: command.limit });
    for (const deadLetter of redriven) process.stdout.write(line(deadLetter));
    process.stdout.write(
      `redrove ${redriven.length} message(s) to ${command.topic} (recorded by group ${consumerGroup})\n`,
    );
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
