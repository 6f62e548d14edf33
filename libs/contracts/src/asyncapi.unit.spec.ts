import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { asyncApiDocument, generateAsyncApi } from './asyncapi';
import { contracts } from './contracts';
import { TOPICS } from './topics';
import { jsonRefs, resolveJsonRef } from '@shop/testing';

const CHECKED_IN = path.join(__dirname, '..', 'asyncapi.yaml');

type Json = Record<string, unknown>;

describe('AsyncAPI document', () => {
  it('is up to date: the checked-in asyncapi.yaml is what the contracts generate', () => {
    // On failure: npm run contracts:asyncapi, and commit libs/contracts/asyncapi.yaml.
    expect(readFileSync(CHECKED_IN, 'utf8')).toBe(generateAsyncApi());
  });

  it('has a channel per topic and a message per registered (type, version)', () => {
    const document = parse(generateAsyncApi()) as Json;
    expect(document['asyncapi']).toBe('3.0.0');
    const channels = document['channels'] as Record<string, { address: string; messages: Json }>;
    expect(
      Object.values(channels)
        .map((channel) => channel.address)
        .sort(),
    ).toEqual(
      Object.values(TOPICS)
        .map((topic) => topic.name)
        .sort(),
    );
    const messages = (document['components'] as { messages: Json }).messages;
    expect(Object.keys(messages).sort()).toEqual(
      contracts.definitions.map((definition) => `${definition.type}.v${definition.version}`).sort(),
    );
    for (const definition of contracts.definitions) {
      const channel = Object.values(channels).find((candidate) => candidate.address === definition.topic.name);
      expect(channel?.messages).toHaveProperty([`${definition.type}.v${definition.version}`]);
    }
  });

  it('describes the envelope with its payload schema, and traceparent in the headers', () => {
    const document = asyncApiDocument();
    const message = resolveJsonRef(document, '#/components/messages/ReserveStock.v2') as Json;
    expect(message['payload']).toMatchObject({
      type: 'object',
      required: expect.arrayContaining([
        'id',
        'type',
        'version',
        'key',
        'occurredAt',
        'correlationId',
        'causationId',
        'payload',
      ]),
      properties: {
        type: { const: 'ReserveStock' },
        version: { const: 2 },
        payload: {
          properties: { items: { type: 'array', minItems: 1, maxItems: 50 } },
          required: ['orderId', 'items'],
        },
      },
    });
    expect(resolveJsonRef(document, (message['headers'] as { $ref: string }).$ref)).toMatchObject({
      properties: { traceparent: { type: 'string' }, tracestate: { type: 'string' } },
    });
    expect(resolveJsonRef(document, '#/components/messages/ReserveStock.v1')).toMatchObject({
      tags: expect.arrayContaining([{ name: 'superseded' }]),
    });
  });

  it('has no dangling $ref', () => {
    const document = asyncApiDocument();
    const dangling = jsonRefs(document).filter((ref) => resolveJsonRef(document, ref) === undefined);
    expect(dangling).toEqual([]);
  });
});
