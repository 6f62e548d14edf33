import type { Admin } from 'kafkajs';
import type { Topic } from '@shop/contracts';
import { scoped } from './kafka';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Topic configs, e.g. { 'retention.ms': '604800000' }. */
  readonly configs?: Readonly<Record<string, string>>;
}

/** A contract topic (TOPICS in @shop/contracts) as this stack names and sizes it. */
export function topicSpec(stackId: string, topic: Topic): TopicSpec {
  return { name: scoped(stackId, topic.name), partitions: topic.partitions };
}

/**
 * Creates the topics that do not exist yet, with their explicit partition
 * counts (the broker never creates one on its own), and returns once the
 * broker serves all of them. Existing topics are left as they are, so every
 * start of the owning service can call it. Returns the names it created.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  options: { readonly replicationFactor?: number } = {},
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic.name));
  if (missing.length) await createMissing(admin, missing, options.replicationFactor);
  // Listed is not yet served: this call, or another service a moment ago, may just have created them.
  await untilServed(
    admin,
    topics.map((topic) => topic.name),
  );
  return missing.map((topic) => topic.name);
}

async function createMissing(
  admin: Admin,
  missing: readonly TopicSpec[],
  replicationFactor: number | undefined,
): Promise<void> {
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: topic.replicationFactor ?? replicationFactor ?? 1,
        configEntries: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    // Created, but the broker does not serve them yet ("This server does not host this topic-partition"
    // while kafkajs waits for leaders; it retries only LEADER_NOT_AVAILABLE): untilServed waits for that.
    if ((error as { retriable?: unknown }).retriable === true) return;
    // Another instance of the owner created some of them first: fine, as long as they all exist now.
    const now = new Set(await admin.listTopics());
    if (!missing.every((topic) => now.has(topic.name))) throw error;
  }
}

/**
 * Until the broker answers a metadata request for every one of `topics` with
 * a leader for each partition. createTopics returns when the controller has
 * them; a client that asks the broker a moment later can still be told
 * "This server does not host this topic-partition", which kafkajs does not
 * retry on connect (a service then exited on its first start).
 */
async function untilServed(admin: Admin, topics: readonly string[], timeoutMs = 15_000): Promise<void> {
  // No topics would ask for the metadata of every topic.
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      const served = metadata.topics.every(
        (topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (served && metadata.topics.length === topics.length) return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (Date.now() >= deadline)
      throw new Error(`topics not served by the broker after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
