import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { kafkaBrokers, waitFor } from '@shop/testing';
import {
  deadLetterCounts,
  groupCaughtUp,
  kafkaClient,
  poisonMessages,
  replayConsumerGroup,
  topicEnd,
} from './message-faults';
import type { Service } from './target';

/**
 * The message faults on the real broker of the test run, for a stack of
 * their own (a fresh stack id, so its topics and groups are new). The
 * consumer group replay runs against a stand-in for inventory-service: a
 * child process whose command line names the service's entry point and
 * which consumes `<stack>.inventory.commands` in the group
 * `<stack>.inventory-service`, printing each offset it handles.
 */
const SERVICE: Service = 'inventory-service';
const stackId = `c${randomBytes(4).toString('hex')}`;
let runDir: string;
let admin: Admin;
const children: ChildProcess[] = [];

const target = () => ({
  brokers: kafkaBrokers(),
  scoped: (name: string) => `${stackId}.${name}`,
  pidFile: (service: Service) => path.join(runDir, `${service}.pid`),
});
const topic = () => target().scoped('inventory.commands');

/** A consumer with a short session timeout (6 s), so the broker drops it soon after SIGSTOP. */
const CONSUMER = `
const { Kafka, logLevel } = require('kafkajs');
const [brokers, groupId, topic] = process.argv.slice(1);
const kafka = new Kafka({ clientId: 'stand-in', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined\\n'));
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      process.stdout.write('offset ' + partition + ':' + message.offset + '\\n');
      await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
    },
  });
})();
`;

function standIn(): { child: ChildProcess; lines: string[] } {
  const child = spawn(
    process.execPath,
    ['-e', CONSUMER, kafkaBrokers().join(','), target().scoped(SERVICE), topic(), `apps/${SERVICE}/dist/main.js`],
    { cwd: path.resolve(__dirname, '../../../..'), detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const lines: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  writeFileSync(target().pidFile(SERVICE), `${child.pid}\n`);
  return { child, lines };
}

beforeAll(async () => {
  runDir = mkdtempSync(path.join(os.tmpdir(), 'chaos-messages-'));
  admin = kafkaClient(kafkaBrokers()).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topic(), numPartitions: 1 },
      { topic: `${topic()}.dlq`, numPartitions: 1 },
      { topic: target().scoped('order.events'), numPartitions: 1 },
    ],
  });
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    process.kill(child.pid, 'SIGCONT');
    child.kill('SIGKILL');
  }
  await admin
    .deleteTopics({ topics: [topic(), `${topic()}.dlq`, target().scoped('order.events')] })
    .catch(() => undefined);
  await admin.disconnect();
  rmSync(runDir, { recursive: true, force: true });
});

describe('poison_messages', () => {
  it('publishes three poison messages per topic and expects them in the dead-letter topic of consumed topics only', async () => {
    const expectations = new Map<string, number>();
    await poisonMessages(target(), ['inventory.commands', 'order.events'], expectations).inject();

    expect(await topicEnd(admin, topic())).toBe(3);
    expect(await topicEnd(admin, target().scoped('order.events'))).toBe(3);
    // inventory.commands has a consumer (inventory-service); order.events has none in the stack.
    expect([...expectations]).toEqual([[`${topic()}.dlq`, 3]]);
  });
});

describe('deadLetterCounts (the audit prints them)', () => {
  it("counts the messages of the stack's dead-letter topics only, by topic without the stack prefix", async () => {
    const producer = kafkaClient(kafkaBrokers()).producer();
    await producer.connect();
    await producer.send({ topic: `${topic()}.dlq`, messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    expect(await deadLetterCounts(kafkaBrokers(), stackId)).toEqual({ 'inventory.commands.dlq': 2 });
  });
});

describe('replay_consumer_group', () => {
  it('freezes the consumer until its group is empty, resets it to the earliest offset and lets it read everything again', async () => {
    const { child, lines } = standIn();
    await waitFor(
      'the stand-in to consume the 3 messages',
      () => lines.filter((line) => line.startsWith('offset')).length === 3,
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor('the group to have committed the end', () => groupCaughtUp(target(), SERVICE), { timeoutMs: 10_000 });

    const fault = replayConsumerGroup(target(), SERVICE, 30_000);
    await fault.inject();
    await fault.rollback();

    // The same process (not a new one) reads offset 0 again once it rejoins.
    await waitFor(
      'offset 0 to be consumed a second time',
      () => lines.filter((line) => line === 'offset 0:0').length === 2,
      {
        timeoutMs: 30_000,
      },
    );
    expect(child.exitCode).toBeNull();
    await waitFor('the group to have caught up again', () => groupCaughtUp(target(), SERVICE), { timeoutMs: 10_000 });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }, 90_000);

  it('rolls back (SIGCONT) when the group never empties in time', async () => {
    const { child, lines } = standIn();
    await waitFor('the stand-in to join', () => lines.includes('joined'), { timeoutMs: 30_000 });
    // Far shorter than the 6 s session timeout: the group still has its member.
    const fault = replayConsumerGroup(target(), SERVICE, 1_000);
    await expect(fault.inject()).rejects.toThrow(/to be empty/);
    await fault.rollback();
    const state = () => readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0];
    await waitFor('the stand-in to run again', () => state() !== 'T', { timeoutMs: 5_000 });
  }, 60_000);
});
