import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { OutboxPublisher, PendingMessage } from './outbox-relay';

const tracer = trace.getTracer('@shop/event-store');

/** Sends messages to several topics in one request: @shop/messaging's MessageProducer fits. */
export interface BatchSender {
  sendBatch(
    batches: ReadonlyArray<{
      readonly topic: string;
      readonly messages: ReadonlyArray<{ key: string; value: string; headers: Record<string, string> }>;
    }>,
  ): Promise<unknown>;
}

/**
 * Publishes outbox rows through a producer that is idempotent, waits for all
 * in-sync replicas and keeps one request in flight (@shop/messaging's
 * createProducer), so order within a partition holds. Each message is published under its
 * writer's trace: a producer span whose parent is the stored traceparent, and
 * whose own context replaces the traceparent header.
 */
export function kafkaOutboxPublisher(producer: BatchSender): OutboxPublisher {
  return {
    async publish(messages: readonly PendingMessage[]): Promise<void> {
      const spans = messages.map((message) => {
        const parent = propagation.extract(
          context.active(),
          message.traceparent ? { traceparent: message.traceparent } : {},
        );
        const span = tracer.startSpan(`${message.topic} publish`, { kind: SpanKind.PRODUCER }, parent);
        const headers: Record<string, string> = { ...message.headers };
        propagation.inject(trace.setSpan(parent, span), headers);
        return { span, headers };
      });
      const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
      messages.forEach((message, index) => {
        const list = byTopic.get(message.topic) ?? [];
        list.push({ key: message.key, value: message.value, headers: spans[index]?.headers ?? { ...message.headers } });
        byTopic.set(message.topic, list);
      });
      try {
        await producer.sendBatch([...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })));
      } catch (error) {
        for (const { span } of spans) span.recordException(error as Error);
        throw error;
      } finally {
        for (const { span } of spans) span.end();
      }
    },
  };
}
