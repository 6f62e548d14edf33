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
 * counts (the broker never creates one on its own). Existing topics are left
 * as they are, so every start of the owning service can call it. Returns the
 * names it created.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  options: { readonly replicationFactor?: number } = {},
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic.name));
  if (!missing.length) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: topic.replicationFactor ?? options.replicationFactor ?? 1,
        configEntries: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    // Another instance of the owner created some of them first: fine, as long as they all exist now.
    const now = new Set(await admin.listTopics());
    if (!missing.every((topic) => now.has(topic.name))) throw error;
  }
  return missing.map((topic) => topic.name);
}
