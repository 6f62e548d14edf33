export { createKafka, kafkaReadiness, scoped, type KafkaOptions } from './kafka';
export { ensureTopics, topicSpec, type TopicSpec } from './topics';
export { createProducer, type MessageProducer, type TopicMessages } from './producer';
export {
  createConsumer,
  type BatchHandler,
  type BatchItem,
  type ConsumerOptions,
  type MessageConsumer,
  type MessageContext,
  type MessageHandler,
} from './consumer';
export { PermanentError, TransientError, classifyError, type DeadLetterReason, type ErrorVerdict } from './errors';
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './backoff';
export { DLQ_HEADERS, REDRIVEN_FROM_HEADER, deadLetterTopic } from './dead-letter';
export { inspectDlq, redriveDlq, type DeadLetter, type DlqOptions, type RedriveResult } from './dlq';
export { outboxMessage, type OutboxRow } from './outbox-message';
