import { InvalidMessageError, readEnvelope } from '@shop/contracts';
import { type Fault, RollbackRegistry } from './fault';
import { httpFault } from './http-faults';
import { type RunCommand, stopKafka } from './kafka-broker';
import { poison } from './message-faults';
import { resolveStack } from './target';

function recording(name: string, log: string[], fail = false): Fault {
  return {
    kind: 'test',
    description: name,
    inject: async () => {
      log.push(`inject ${name}`);
    },
    rollback: async () => {
      log.push(`rollback ${name}`);
      if (fail) throw new Error(`${name} would not roll back`);
    },
  };
}

describe('RollbackRegistry', () => {
  it('rolls back newest first, each once, and goes on past a failing one', async () => {
    const log: string[] = [];
    const registry = new RollbackRegistry(() => 42);
    registry.register('a', recording('a', log));
    registry.register('b', recording('b', log, true));
    registry.register('c', recording('c', log));
    expect(await registry.rollback('c')).toEqual({ name: 'c', ok: true, at: 42 });
    expect(registry.isActive('c')).toBe(false);
    const outcomes = await registry.rollbackAll();
    expect(log).toEqual(['rollback c', 'rollback b', 'rollback a']);
    expect(outcomes).toEqual([
      { name: 'b', ok: false, error: 'b would not roll back', at: 42 },
      { name: 'a', ok: true, at: 42 },
    ]);
    expect(await registry.rollbackAll()).toEqual([]);
  });

  it('refuses two faults of one name, and a rollback of a fault never registered', async () => {
    const registry = new RollbackRegistry();
    registry.register('a', recording('a', []));
    expect(() => registry.register('a', recording('a', []))).toThrow(/already registered/);
    await expect(registry.rollback('nope')).rejects.toThrow(/no fault named "nope"/);
  });
});

describe('httpFault', () => {
  const target = { url: () => 'http://127.0.0.1:3005', chaosToken: 'secret' };

  it('PUTs the faults with the chaos token and DELETEs them on rollback', async () => {
    const calls: Array<{ url: string; method: string; auth: string; body: unknown }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      calls.push({ url, method: String(init.method), auth: headers['authorization'] ?? '', body: init.body });
      return new Response(init.method === 'PUT' ? '{}' : null, { status: init.method === 'PUT' ? 200 : 204 });
    }) as typeof fetch;
    const fault = httpFault(target, 'payment-provider', { outage: true }, fakeFetch);
    await fault.inject();
    await fault.rollback();
    expect(calls).toEqual([
      { url: 'http://127.0.0.1:3005/admin/faults', method: 'PUT', auth: 'Bearer secret', body: '{"outage":true}' },
      { url: 'http://127.0.0.1:3005/admin/faults', method: 'DELETE', auth: 'Bearer secret', body: undefined },
    ]);
  });

  it('says why an injection was refused', async () => {
    const refused = (async () => new Response('{}', { status: 404 })) as unknown as typeof fetch;
    await expect(httpFault(target, 'order-service', { errorRate: 0.5 }, refused).inject()).rejects.toThrow(
      /404 \(fault injection is off/,
    );
    await expect(
      httpFault({ ...target, chaosToken: '' }, 'order-service', { hang: true }, refused).inject(),
    ).rejects.toThrow(/no chaos token/);
  });
});

describe('stopKafka', () => {
  it("runs infra/stack's kafka:stop and kafka:start for the stack", async () => {
    const calls: string[] = [];
    const run: RunCommand = async (_command, args, env) => {
      calls.push(`${args.at(-1)} ${env['STACK_ID']} ${env['STACK_PORT_BLOCK']}`);
      return { code: 0, output: args.at(-1) === 'kafka:stop' ? '[stack] Kafka (pid 7) stopped' : 'ready' };
    };
    const fault = stopKafka({ id: 'shop', block: 0, root: '/work' }, run, {});
    await fault.inject();
    await fault.rollback();
    expect(calls).toEqual(['kafka:stop shop 0', 'kafka:start shop 0']);
  });

  it('refuses a broker that npm start does not run, and then starts nothing', async () => {
    const calls: string[] = [];
    const run: RunCommand = async (_command, args) => {
      calls.push(String(args.at(-1)));
      return { code: 0, output: '[stack] Kafka was not running' };
    };
    const fault = stopKafka({ id: 'shop', block: 0, root: '/work' }, run, {});
    await expect(fault.inject()).rejects.toThrow(/no broker of its own/);
    await fault.rollback();
    expect(calls).toEqual(['kafka:stop']);
  });
});

describe('poison messages', () => {
  it('are each rejected by the envelope reader for a different reason', () => {
    const reasons = poison('key-1').map((value) => {
      try {
        readEnvelope({ key: 'key-1', value });
        return 'accepted';
      } catch (error) {
        return error instanceof InvalidMessageError ? error.reason : 'crashed';
      }
    });
    expect(reasons).toEqual(['not-json', 'invalid-envelope', 'unknown-type']);
  });
});

describe('resolveStack', () => {
  it('names what npm start names: run folder, ports, databases, topics and groups', () => {
    const dev = resolveStack({ root: '/work' }, {});
    expect(dev.runDir).toBe('/work/.run');
    expect(dev.url('payment-provider')).toBe('http://127.0.0.1:3005');
    expect(dev.brokers).toEqual(['127.0.0.1:9092']);
    expect(dev.database('payment-provider')).toBe('shop_payment_provider');
    expect(dev.scoped('payment.commands')).toBe('shop.payment.commands');
    expect(() => dev.database('gateway')).toThrow(/no database/);

    const test = resolveStack({ id: 'test1', block: 1, root: '/work' }, { ORDER_SERVICE_URL: 'http://127.0.0.1:4000' });
    expect(test.runDir).toBe('/work/.run/stacks/test1');
    expect(test.url('gateway')).toBe('http://127.0.0.1:13000');
    expect(test.url('order-service')).toBe('http://127.0.0.1:4000');
    expect(test.pidFile('order-service')).toBe('/work/.run/stacks/test1/order-service.pid');
    expect(test.brokers).toEqual(['127.0.0.1:19092']);
  });
});
