import { CompressionTypes, Partitioners, type Kafka, type Message, type RecordMetadata } from 'kafkajs';

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly Message[];
}

/** A producer whose delivery settings cannot be got wrong at a call site. */
export interface MessageProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Many messages to one topic in one request. */
  send(topic: string, messages: readonly Message[]): Promise<RecordMetadata[]>;
  /** Many messages to several topics in one request. */
  sendBatch(batches: readonly TopicMessages[]): Promise<RecordMetadata[]>;
}

/**
 * Idempotent (the broker drops a retried duplicate), acks from all in-sync
 * replicas, one request in flight (so a retry never reorders a partition),
 * uncompressed: the messages are small JSON envelopes, and gzip cost more
 * CPU on both ends than the bytes it saved (a profile under load put it at
 * 3 % of a service's time). The broker never creates a topic on a send.
 * Retries stay bounded (kafkajs warns that this "may invalidate EoS"): a send
 * fails rather than hangs while the broker is gone; we never claim
 * exactly-once, and a duplicate is absorbed by the consumer's inbox.
 */
export function createProducer(kafka: Kafka): MessageProducer {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Murmur2 on the key, like Kafka's Java client: a key lands on the same partition whoever produces it.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const delivery = { acks: -1, compression: CompressionTypes.None } as const;
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    send: (topic, messages) => producer.send({ topic, messages: [...messages], ...delivery }),
    sendBatch: (batches) =>
      producer.sendBatch({
        topicMessages: batches.map(({ topic, messages }) => ({ topic, messages: [...messages] })),
        ...delivery,
      }),
  };
}
