import { deadLetterMessage, deadLetterTopic, decodeHeaders, withoutDeadLetterHeaders } from './dead-letter';
import { PermanentError } from './errors';

describe('dead letters', () => {
  const original = {
    key: Buffer.from('order-1'),
    value: Buffer.from('{"not":"valid"}'),
    headers: { traceparent: Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') },
  };

  it('keep the original key, value and headers, and say why and where from', () => {
    const message = deadLetterMessage(original, {
      topic: 'shop.order.events',
      partition: 2,
      offset: '41',
      reason: 'permanent-error',
      error: new PermanentError('order does not exist'),
      consumerGroup: 'shop.payment-service',
      attempts: 1,
      failedAt: new Date('2025-01-02T03:04:05.000Z'),
    });
    expect(message.key).toBe(original.key);
    expect(message.value).toBe(original.value);
    expect(decodeHeaders(message.headers)).toEqual({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'dlq-reason': 'permanent-error',
      'dlq-error': 'PermanentError: order does not exist',
      'dlq-original-topic': 'shop.order.events',
      'dlq-original-partition': '2',
      'dlq-original-offset': '41',
      'dlq-failed-at': '2025-01-02T03:04:05.000Z',
      'dlq-consumer-group': 'shop.payment-service',
      'dlq-attempts': '1',
    });
    expect(withoutDeadLetterHeaders(message.headers)).toEqual(original.headers);
  });

  it('go to <topic>.dlq', () => {
    expect(deadLetterTopic('shop.order.events')).toBe('shop.order.events.dlq');
  });

  it('cut a huge error message short', () => {
    const message = deadLetterMessage(original, {
      topic: 't',
      partition: 0,
      offset: '0',
      reason: 'retries-exhausted',
      error: new Error('x'.repeat(10_000)),
      consumerGroup: 'g',
      attempts: 5,
      failedAt: new Date(),
    });
    expect(decodeHeaders(message.headers)['dlq-error']?.length).toBeLessThanOrEqual(2_001);
  });
});
