import { parseDlqCommand } from './dlq-cli';

describe('dlq CLI arguments', () => {
  it('takes an action, a contract topic (prefixed with STACK_ID) and a limit', () => {
    expect(parseDlqCommand(['inspect', 'order.events'], { STACK_ID: 'test' })).toEqual({
      action: 'inspect',
      topic: 'test.order.events',
      limit: 100,
    });
    expect(parseDlqCommand(['redrive', 'payment.commands', '--limit', '5'], {})).toEqual({
      action: 'redrive',
      topic: 'shop.payment.commands',
      limit: 5,
    });
  });

  it('refuses anything else with the usage line', () => {
    expect(() => parseDlqCommand([], {})).toThrow(/usage: dlq/);
    expect(() => parseDlqCommand(['delete', 'order.events'], {})).toThrow(/usage: dlq/);
    expect(() => parseDlqCommand(['inspect', 'order.events', '--limit', '0'], {})).toThrow(/usage: dlq/);
  });
});
