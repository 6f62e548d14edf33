import { Counter, Gauge, register } from 'prom-client';

/**
 * Consumer metrics in prom-client's default registry, which the services'
 * /metrics serves. Looked up before created, so a second copy of this module
 * (tests, a hot reload) reuses the registered metric instead of throwing.
 */
function metric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

export const consumerLag = metric(
  'messaging_consumer_lag',
  () =>
    new Gauge({
      name: 'messaging_consumer_lag',
      help: 'Messages not yet committed by the group: high watermark minus committed offset, per partition.',
      labelNames: ['group', 'topic', 'partition'] as const,
    }),
);

export const messagesHandled = metric(
  'messaging_messages_handled_total',
  () =>
    new Counter({
      name: 'messaging_messages_handled_total',
      help: 'Messages whose handler succeeded and whose offset was committed.',
      labelNames: ['group', 'topic'] as const,
    }),
);

export const messagesPassedOver = metric(
  'messaging_messages_passed_over_total',
  () =>
    new Counter({
      name: 'messaging_messages_passed_over_total',
      help: 'Messages of a type the consumer does not handle (by their type header): committed without being read.',
      labelNames: ['group', 'topic'] as const,
    }),
);

export const messagesRetried = metric(
  'messaging_messages_retried_total',
  () =>
    new Counter({
      name: 'messaging_messages_retried_total',
      help: 'Handler failures that were retried (kind: transient = dependency down, retryable = other error).',
      labelNames: ['group', 'topic', 'kind'] as const,
    }),
);

export const messagesDeadLettered = metric(
  'messaging_messages_dead_lettered_total',
  () =>
    new Counter({
      name: 'messaging_messages_dead_lettered_total',
      help: 'Messages published to <topic>.dlq, by reason.',
      labelNames: ['group', 'topic', 'reason'] as const,
    }),
);
