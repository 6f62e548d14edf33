import { stringify } from 'yaml';
import { z } from 'zod';
import { contracts } from './contracts';
import { EnvelopeSchema } from './envelope';
import type { AnyMessageDefinition } from './message';
import type { MessageRegistry } from './registry';
import { TOPICS, type TopicKey } from './topics';

/**
 * The AsyncAPI 3.0 document of every topic and message, generated from the
 * definitions themselves so it cannot drift: `npm run contracts:asyncapi`
 * rewrites libs/contracts/asyncapi.yaml, and a unit test fails when the
 * checked-in file differs from what this generates.
 *
 * Not exported from the package entry point: `yaml` is a development
 * dependency and services never need the document at run time.
 */
const DOCUMENT_VERSION = '1.0.0';
const KAFKA_BINDING_VERSION = '0.5.0';

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
const EnvelopeHeaders = z.object({
  type: z
    .string()
    .optional()
    .describe(
      "The envelope's type, repeated so a consumer can pass over types it does not handle without parsing the body.",
    ),
  traceparent: z
    .string()
    .regex(TRACEPARENT)
    .optional()
    .describe('W3C trace context of the span that produced the message (set by OpenTelemetry on send).'),
  tracestate: z.string().optional().describe('W3C tracestate, when the producer had one.'),
});

/** What a producer may send (zod's input side: unknown fields are tolerated, and stripped by readers). */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io: 'input' });
  return rest;
}

const messageId = (definition: AnyMessageDefinition) => `${definition.type}.v${definition.version}`;

function messageObject(definition: AnyMessageDefinition, current: boolean): Record<string, unknown> {
  const body = EnvelopeSchema.extend({
    type: z.literal(definition.type),
    version: z.literal(definition.version),
    payload: definition.schema,
  });
  return {
    name: definition.type,
    title: `${definition.type} v${definition.version}`,
    summary: definition.description,
    ...(current
      ? {}
      : { description: 'Superseded: consumers read it through its upcaster; producers publish the current version.' }),
    contentType: 'application/json',
    tags: [{ name: definition.kind }, { name: current ? 'current' : 'superseded' }],
    correlationId: { $ref: '#/components/correlationIds/correlationId' },
    headers: { $ref: '#/components/schemas/EnvelopeHeaders' },
    payload: jsonSchema(body),
    bindings: {
      kafka: {
        key: { type: 'string', description: 'The aggregate id; equals the envelope key.' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

export function asyncApiDocument(registry: MessageRegistry = contracts): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const [channelId, topic] of Object.entries(TOPICS) as [TopicKey, (typeof TOPICS)[TopicKey]][]) {
    const onTopic = registry.definitions
      .filter((definition) => definition.topic.name === topic.name)
      .sort((a, b) => (a.type === b.type ? a.version - b.version : a.type < b.type ? -1 : 1));
    if (!onTopic.length) continue;
    const commands = onTopic.every((definition) => definition.kind === 'command');

    for (const definition of onTopic) {
      messages[messageId(definition)] = messageObject(definition, registry.current(definition.type) === definition);
    }
    channels[channelId] = {
      address: topic.name,
      title: topic.name,
      description:
        `${commands ? 'Saga commands for' : 'Facts published by'} ${topic.owner}, which provisions the topic ` +
        `(${topic.partitions} partitions). Deployed as <stackId>.${topic.name}; failed messages go to ` +
        `<stackId>.${topic.name}.dlq.`,
      messages: Object.fromEntries(
        onTopic.map((definition) => [
          messageId(definition),
          { $ref: `#/components/messages/${messageId(definition)}` },
        ]),
      ),
      bindings: { kafka: { partitions: topic.partitions, bindingVersion: KAFKA_BINDING_VERSION } },
    };
    operations[`${commands ? 'receive' : 'send'}.${channelId}`] = {
      action: commands ? 'receive' : 'send',
      title: `${topic.owner} ${commands ? 'receives' : 'publishes'} ${topic.name}`,
      channel: { $ref: `#/channels/${channelId}` },
      messages: onTopic.map((definition) => ({
        $ref: `#/channels/${channelId}/messages/${messageId(definition)}`,
      })),
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Shop integration messages',
      version: DOCUMENT_VERSION,
      description:
        'Every command and integration event of the place-order saga, generated from libs/contracts. ' +
        'Each message is one JSON envelope (id, type, version, key, occurredAt, correlationId, causationId, ' +
        'payload) with W3C trace context in the Kafka headers. Do not edit: run `npm run contracts:asyncapi`.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      messages,
      schemas: { EnvelopeHeaders: jsonSchema(EnvelopeHeaders) },
      correlationIds: {
        correlationId: {
          description: 'Shared by every message of one business flow (one order).',
          location: '$message.payload#/correlationId',
        },
      },
    },
  };
}

/** The document as the YAML that is checked in (Prettier-clean, no anchors, stable order). */
export function generateAsyncApi(registry: MessageRegistry = contracts): string {
  const header = '# Generated from libs/contracts by `npm run contracts:asyncapi`. Do not edit.\n';
  return (
    header + stringify(asyncApiDocument(registry), { lineWidth: 0, singleQuote: true, aliasDuplicateObjects: false })
  );
}
