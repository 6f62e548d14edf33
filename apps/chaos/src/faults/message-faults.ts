import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { waitFor } from '@shop/testing';
import type { Fault } from './fault';
import { servicePid, signal } from './process-faults';
import { CONSUMERS, type Service, type StackTarget } from './target';

export function kafkaClient(brokers: readonly string[]): Kafka {
  return new Kafka({
    clientId: 'chaos',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3 },
  });
}

async function withAdmin<T>(brokers: readonly string[], work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** `<topic>.dlq` (libs/messaging dead-letter.ts). */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** How many messages a topic has ever had (the sum of its partitions' high watermarks); 0 when it does not exist. */
export async function topicEnd(admin: Admin, topic: string): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) return 0;
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0);
}

/**
 * Messages in every dead-letter topic of a stack (`<stack>.<topic>.dlq`), by
 * topic without the stack prefix: what was rejected and is waiting for
 * `npm run dlq -- inspect` or a redrive.
 */
export async function deadLetterCounts(brokers: readonly string[], stackId: string): Promise<Record<string, number>> {
  return withAdmin(brokers, async (admin) => {
    const topics = (await admin.listTopics()).filter(
      (topic) => topic.startsWith(`${stackId}.`) && topic.endsWith('.dlq'),
    );
    const counts: Record<string, number> = {};
    for (const topic of topics.sort()) {
      const offsets = await admin.fetchTopicOffsets(topic);
      counts[topic.slice(stackId.length + 1)] = offsets.reduce(
        (sum, partition) => sum + Number(partition.high) - Number(partition.low),
        0,
      );
    }
    return counts;
  });
}

/**
 * What the poison fault expects in the dead-letter topics: dlq topic → the end
 * it must reach once every poisoned message has been rejected by its consumer.
 * Filled by `poisonMessages`, read by the `dead_letters` probe.
 */
export type DeadLetterExpectations = Map<string, number>;

/** The consumer groups reading a contract topic. */
function consumersOf(topic: string): Service[] {
  return (Object.entries(CONSUMERS) as Array<[Service, readonly string[]]>)
    .filter(([, topics]) => topics.includes(topic))
    .map(([service]) => service);
}

/** The three kinds of message a consumer must dead-letter rather than crash or block on (@shop/contracts readEnvelope). */
export function poison(key: string): string[] {
  const envelope = {
    id: randomUUID(),
    type: 'ChaosPoison',
    version: 1,
    key,
    occurredAt: new Date().toISOString(),
    correlationId: key,
    causationId: key,
    payload: {},
  };
  return ['{"this is": not json', JSON.stringify({ hello: 'not an envelope' }), JSON.stringify(envelope)];
}

/**
 * Publishes the poison messages to every named contract topic of the stack
 * and records, for each topic somebody consumes, how far its dead-letter
 * topic must grow. Nothing to undo: the messages stay on their topics.
 */
export function poisonMessages(
  target: Pick<StackTarget, 'brokers' | 'scoped'>,
  topics: readonly string[],
  expectations: DeadLetterExpectations,
): Fault {
  return {
    kind: 'poison_messages',
    description: `publish 3 poison messages to each of ${topics.join(', ')}`,
    async inject() {
      const kafka = kafkaClient(target.brokers);
      const admin = kafka.admin();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await Promise.all([admin.connect(), producer.connect()]);
      try {
        for (const topic of topics) {
          const key = randomUUID();
          const messages = poison(key);
          const groups = consumersOf(topic).length;
          if (groups > 0) {
            const dlq = deadLetterTopic(target.scoped(topic));
            expectations.set(dlq, (await topicEnd(admin, dlq)) + messages.length * groups);
          }
          await producer.send({
            topic: target.scoped(topic),
            messages: messages.map((value) => ({ key, value, headers: { 'chaos-poison': 'true' } })),
          });
        }
      } finally {
        await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
      }
    },
    async rollback() {
      // One-shot: the poison stays on its topics (and in the dead-letter topics), as it would in production.
    },
  };
}

/** True when the consumer group has committed up to the end of every partition of its topics. */
export async function groupCaughtUp(
  target: Pick<StackTarget, 'brokers' | 'scoped'>,
  service: Service,
): Promise<boolean> {
  const topics = (CONSUMERS[service] ?? []).map((topic) => target.scoped(topic));
  return withAdmin(target.brokers, async (admin) => {
    const committed = await admin.fetchOffsets({ groupId: target.scoped(service), topics });
    for (const topic of topics) {
      const partitions = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
      for (const end of await admin.fetchTopicOffsets(topic)) {
        const offset = Number(partitions.find((entry) => entry.partition === end.partition)?.offset ?? -1);
        const from = offset < 0 ? Number(end.low) : offset;
        if (from < Number(end.high)) return false;
      }
    }
    return true;
  });
}

/**
 * Redelivers everything a consumer group ever consumed. Kafka lets an
 * admin move a group's offsets only while the group has no members, and a
 * killed service is respawned by the supervisor within 5 s (racing the
 * reset), so the service is frozen instead: SIGSTOP, then wait (polling
 * with a deadline) until the broker expires its member (the session timeout,
 * 30 s) and the group is Empty, reset its offsets to the earliest, SIGCONT.
 * The resumed consumer finds itself out of the group, rejoins, and reads its
 * topics from the start. The rollback sends SIGCONT, whatever happened.
 */
export function replayConsumerGroup(
  target: Pick<StackTarget, 'brokers' | 'scoped' | 'pidFile'>,
  service: Service,
  emptyTimeoutMs = 60_000,
): Fault {
  const groupId = target.scoped(service);
  const topics = (CONSUMERS[service] ?? []).map((topic) => target.scoped(topic));
  let paused: number | undefined;
  const resume = () => {
    if (paused === undefined) return;
    try {
      signal(paused, 'SIGCONT');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  return {
    kind: 'replay_consumer_group',
    description: `reset consumer group ${groupId} to the earliest offsets of ${topics.join(', ')}`,
    async inject() {
      if (!topics.length) throw new Error(`${service} consumes no topic`);
      const pid = servicePid(target, service);
      if (pid === undefined) throw new Error(`${service} is not running under npm start`);
      paused = pid;
      signal(pid, 'SIGSTOP');
      await withAdmin(target.brokers, async (admin) => {
        await waitFor(
          `consumer group ${groupId} to be empty`,
          async () => {
            const [group] = (await admin.describeGroups([groupId])).groups;
            return group !== undefined && (group.state === 'Empty' || group.state === 'Dead');
          },
          { timeoutMs: emptyTimeoutMs, intervalMs: 1_000 },
        );
        for (const topic of topics) await admin.resetOffsets({ groupId, topic, earliest: true });
      });
      resume();
    },
    async rollback() {
      resume();
    },
  };
}
