import {
  InvalidMessageError,
  OrderPlaced,
  OrderRejected,
  ReserveStock,
  causedBy,
  createEnvelope,
  readEnvelope,
  type InvalidMessageReason,
  type ReceivedEnvelope,
  type WireMessage,
} from './index';

const orderId = '0b7f4a52-4a0e-4f57-9a51-6c1f3f2b9d10';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const placed = {
  orderId,
  userId: 'user-1',
  items: [{ sku: 'SKU-1', quantity: 2, priceCents: 1250 }],
  totalCents: 2500,
  currency: 'EUR',
};

/** A raw Kafka message as kafkajs hands it to a consumer: Buffers for value and headers. */
function wire(value: unknown, headers: Record<string, string> = {}): WireMessage {
  return {
    key: Buffer.from(orderId),
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: Object.fromEntries(Object.entries(headers).map(([name, text]) => [name, Buffer.from(text)])),
  };
}

function reasonOf(read: () => unknown): InvalidMessageReason | 'no error' {
  try {
    read();
  } catch (error) {
    if (error instanceof InvalidMessageError) return error.reason;
    throw error;
  }
  return 'no error';
}

describe('envelope', () => {
  it('round-trips a message: body, key, and the type and trace context in the headers', () => {
    const message = createEnvelope(OrderPlaced, placed, {
      correlationId: 'corr-1',
      causationId: 'request-1',
      trace: { traceparent, tracestate: 'vendor=1' },
    });

    expect(message.key).toBe(orderId);
    expect(message.headers).toEqual({ type: 'OrderPlaced', traceparent, tracestate: 'vendor=1' });
    const body = JSON.parse(message.value) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['causationId', 'correlationId', 'id', 'key', 'occurredAt', 'payload', 'type', 'version'].sort(),
    );

    const received = readEnvelope(wire(message.value, message.headers));
    expect(received).toEqual({
      id: body['id'],
      type: 'OrderPlaced',
      version: 1,
      key: orderId,
      occurredAt: body['occurredAt'],
      correlationId: 'corr-1',
      causationId: 'request-1',
      payload: placed,
      trace: { traceparent, tracestate: 'vendor=1' },
    });
  });

  it('keeps a given id and time, so a re-published outbox row is the same message', () => {
    const id = '5d1c6a0e-3b8f-4c4e-9a0b-2f0e6f7d8c91';
    const message = createEnvelope(
      OrderRejected,
      { orderId, reason: 'TIMEOUT' },
      {
        id,
        occurredAt: new Date('2025-01-02T03:04:05.678Z'),
        ...causedBy({ id: 'cause-1', correlationId: 'corr-9' }),
      },
    );
    const received = readEnvelope(wire(message.value));
    expect(received).toMatchObject({
      id,
      occurredAt: '2025-01-02T03:04:05.678Z',
      correlationId: 'corr-9',
      causationId: 'cause-1',
    });
    expect(received.trace).toBeUndefined();
  });

  it('narrows the payload by type', () => {
    const received: ReceivedEnvelope = readEnvelope(
      wire(
        createEnvelope(
          ReserveStock,
          { orderId, items: [{ sku: 'A', quantity: 1 }] },
          causedBy({ id: 'c', correlationId: 'c' }),
        ).value,
      ),
    );
    let skus: string[] = [];
    switch (received.type) {
      case 'ReserveStock':
        skus = received.payload.items.map((item) => item.sku);
        break;
      default:
        break;
    }
    expect(skus).toEqual(['A']);
  });

  it('refuses to build a message whose payload fails its schema', () => {
    expect(() =>
      createEnvelope(
        OrderRejected,
        { orderId, reason: 'NOT_A_REASON' as 'TIMEOUT' },
        { correlationId: 'c', causationId: 'c' },
      ),
    ).toThrow(/reason/);
    expect(() =>
      createEnvelope(
        ReserveStock,
        {
          orderId,
          items: [
            { sku: 'A', quantity: 1 },
            { sku: 'A', quantity: 2 },
          ],
        },
        {
          correlationId: 'c',
          causationId: 'c',
        },
      ),
    ).toThrow(/each SKU at most once/);
  });

  describe('reading fails with a typed reason', () => {
    const valid = JSON.parse(
      createEnvelope(OrderRejected, { orderId, reason: 'OUT_OF_STOCK' }, { correlationId: 'c', causationId: 'c' })
        .value,
    ) as Record<string, unknown>;

    it('not-json: a value that is not JSON, or no value at all', () => {
      expect(reasonOf(() => readEnvelope(wire('{"id": oops')))).toBe('not-json');
      expect(reasonOf(() => readEnvelope({ key: null, value: null }))).toBe('not-json');
    });

    it('invalid-envelope: JSON that is not an envelope', () => {
      expect(reasonOf(() => readEnvelope(wire({ hello: 'world' })))).toBe('invalid-envelope');
      expect(reasonOf(() => readEnvelope(wire({ ...valid, id: 'not-a-uuid' })))).toBe('invalid-envelope');
      expect(reasonOf(() => readEnvelope(wire({ ...valid, occurredAt: 'yesterday' })))).toBe('invalid-envelope');
      expect(reasonOf(() => readEnvelope(wire([1, 2, 3])))).toBe('invalid-envelope');
    });

    it('unknown-type: a type, or a version of a type, that is not registered', () => {
      expect(reasonOf(() => readEnvelope(wire({ ...valid, type: 'OrderTeleported' })))).toBe('unknown-type');
      expect(reasonOf(() => readEnvelope(wire({ ...valid, version: 7 })))).toBe('unknown-type');
    });

    it('invalid-payload: a payload that fails the schema of its type and version', () => {
      const error = (() => {
        try {
          readEnvelope(wire({ ...valid, payload: { orderId, reason: 'BORED' } }));
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(InvalidMessageError);
      expect((error as InvalidMessageError).reason).toBe('invalid-payload');
      expect((error as InvalidMessageError).message).toMatch(/OrderRejected v1: reason/);
      expect(reasonOf(() => readEnvelope(wire({ ...valid, payload: {} })))).toBe('invalid-payload');
    });

    it('reads a valid message without error (the cases above fail only for their reason)', () => {
      expect(reasonOf(() => readEnvelope(wire(valid)))).toBe('no error');
    });
  });

  it('drops a malformed traceparent instead of failing the message', () => {
    const message = createEnvelope(
      OrderRejected,
      { orderId, reason: 'TIMEOUT' },
      { correlationId: 'c', causationId: 'c' },
    );
    const received = readEnvelope(wire(message.value, { traceparent: 'garbage' }));
    expect(received.trace).toBeUndefined();
    expect(received.type).toBe('OrderRejected');
  });
});
