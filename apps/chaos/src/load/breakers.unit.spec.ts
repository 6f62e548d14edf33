import { breakerStates, formatBreakers } from './breakers';

describe('breaker states from /health/ready', () => {
  it('reads each policy beside Terminus’ status field', () => {
    const body = {
      status: 'ok',
      details: {
        database: { status: 'up' },
        breakers: {
          status: 'up',
          'order-service': { state: 'closed', stats: { calls: 3 } },
          'inventory-service': { state: 'open', stats: { calls: 9 } },
        },
      },
    };
    expect(breakerStates(body)).toEqual({ 'order-service': 'closed', 'inventory-service': 'open' });
  });

  it('reads a 503 problem+json body the same way', () => {
    const body = {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      details: { kafka: { status: 'down' }, breakers: { status: 'up', 'payment-provider': { state: 'half-open' } } },
    };
    expect(breakerStates(body)).toEqual({ 'payment-provider': 'half-open' });
  });

  it('is undefined without breaker details, empty with no policies', () => {
    expect(breakerStates({ status: 'ok', details: {} })).toBeUndefined();
    expect(breakerStates('not json')).toBeUndefined();
    expect(breakerStates(undefined)).toBeUndefined();
    expect(breakerStates({ details: { breakers: { status: 'up' } } })).toEqual({});
  });

  it('formats them for the progress line', () => {
    expect(formatBreakers({ 'order-service': 'closed', 'inventory-service': 'open' })).toBe(
      'order-service closed, inventory-service open',
    );
    expect(formatBreakers({})).toBe('none');
    expect(formatBreakers('unreachable')).toBe('unreachable');
    expect(formatBreakers(undefined)).toBe('…');
  });
});
