import { randomUUID } from 'node:crypto';
import { createEnvelope, type EnvelopeMeta } from '@shop/contracts';
import { scoped } from './kafka';

type Definition = Parameters<typeof createEnvelope>[0];

/** What an outbox row holds: structurally @shop/event-store's OutboxMessage. */
export interface OutboxRow {
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * An integration message ready for the outbox: the one envelope of
 * @shop/contracts, on the stack's copy of the message's topic. The envelope id
 * is the outbox row's id, so the consumer's inbox deduplicates a re-publish.
 */
export function outboxMessage<D extends Definition>(
  stackId: string,
  definition: D,
  payload: Parameters<typeof createEnvelope<D>>[1],
  meta: Omit<EnvelopeMeta, 'id'> & { readonly id?: string },
): OutboxRow {
  const id = meta.id ?? randomUUID();
  const message = createEnvelope(definition, payload, { ...meta, id });
  return { id, topic: scoped(stackId, definition.topic.name), ...message };
}
