import path from 'node:path';
import { experimentFileNames, experimentsDir, loadExperiments } from './files';
import { ACTIONS, ExperimentError, needsCompose, parseExperiment } from './schema';

const root = path.resolve(__dirname, '../../../..');

/** A small valid experiment; each test breaks one thing in a copy. */
function valid(): Record<string, unknown> {
  return {
    version: '1.0.0',
    title: 'provider latency',
    description: 'the card processor is slow',
    tags: ['http'],
    extensions: [{ name: 'shop', load: { mode: 'open', ratePerSecond: 10, durationSeconds: 60 } }],
    'steady-state-hypothesis': {
      title: 'ready',
      probes: [
        {
          type: 'probe',
          name: 'every service is ready',
          provider: { type: 'python', module: 'chaosshop.probes', func: 'all_ready', arguments: {} },
          tolerance: true,
        },
      ],
    },
    method: [
      {
        type: 'action',
        name: 'slow provider',
        provider: {
          type: 'python',
          module: 'chaosshop.actions',
          func: 'http_faults',
          arguments: { service: 'payment-provider', latencyMs: 3000 },
        },
        pauses: { before: 5, after: 20 },
      },
    ],
    rollbacks: [
      {
        type: 'action',
        name: 'clear',
        provider: {
          type: 'python',
          module: 'chaosshop.actions',
          func: 'rollback',
          arguments: { action: 'slow provider' },
        },
      },
    ],
  };
}

/** The valid experiment with its one method action calling `func` with `args` instead. */
function validCalling(func: string, args: Record<string, unknown>): Json {
  const json = valid() as Json;
  json.method[0] = {
    type: 'action',
    name: 'slow provider',
    provider: { type: 'python', module: 'chaosshop.actions', func, arguments: args },
  };
  return json;
}

function problems(json: unknown): string[] {
  try {
    parseExperiment(json, 'test.json');
  } catch (error) {
    if (error instanceof ExperimentError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the experiment to be rejected');
}

type Json = Record<string, unknown> & { method: Array<Record<string, unknown>> };

/** The first element of a list in a test fixture (which always has one). */
function first<T>(list: readonly T[]): T {
  const [head] = list;
  if (head === undefined) throw new Error('the fixture has an empty list');
  return head;
}

/** The provider of the first method action of a fixture. */
function provider(json: Json): Record<string, unknown> {
  return first(json.method)['provider'] as Record<string, unknown>;
}

describe('experiment files', () => {
  it('holds the ten experiments of the chaos issue, each valid', () => {
    const experiments = loadExperiments(experimentsDir(root));
    expect(experiments.map((file) => file.name)).toEqual([
      'consumer-group-replay',
      'decline-storm',
      'gateway-order-errors',
      'inventory-paused',
      'kafka-stopped',
      'order-db-terminated',
      'payment-service-kill',
      'poison-messages',
      'provider-latency-3s',
      'provider-outage-30s',
    ]);
    for (const { experiment } of experiments) {
      expect(experiment.shop.load.durationSeconds).toBeGreaterThan(0);
      expect(needsCompose(experiment)).toBe(false);
    }
    expect(experimentFileNames(experimentsDir(root))).toHaveLength(10);
  });
});

describe('experiment schema', () => {
  it('accepts a well-formed experiment and exposes its load', () => {
    expect(parseExperiment(valid()).shop.load).toEqual({ mode: 'open', ratePerSecond: 10, durationSeconds: 60 });
  });

  it('names a missing title and steady-state hypothesis', () => {
    const json = valid();
    delete json['title'];
    delete json['steady-state-hypothesis'];
    const found = problems(json);
    expect(found).toContainEqual(expect.stringMatching(/^title: /));
    expect(found).toContainEqual(expect.stringMatching(/^steady-state-hypothesis: /));
  });

  it('rejects an unknown fault function, listing the known ones', () => {
    const json = valid() as Json;
    provider(json)['func'] = 'set_fire';
    expect(problems(json)).toEqual([
      expect.stringMatching(
        /^method\.0\.provider\.func: unknown chaosshop\.actions function "set_fire"; known: http_faults, /,
      ),
      expect.stringMatching(/^rollbacks\.0\.provider\.arguments\.action: "slow provider" is not a fault action/),
    ]);
  });

  it('checks the arguments of each function', () => {
    const json = valid() as Json;
    provider(json)['arguments'] = {
      service: 'order-service',
      errorRate: 1.5,
      declineRate: 0.5,
    };
    const found = problems(json);
    expect(found).toContainEqual(expect.stringMatching(/^method\.0\.provider\.arguments\.errorRate: /));
    expect(problems(validCalling('http_faults', { service: 'order-service', declineRate: 0.5 }))).toContainEqual(
      'method.0.provider.arguments: declineRate and outage exist only on the payment-provider',
    );
  });

  it('rejects a database fault on the gateway, which has no database', () => {
    expect(problems(validCalling('refuse_db_connections', { service: 'gateway' }))).toContainEqual(
      'method.0.provider.arguments.service: this service has no database (the gateway is stateless)',
    );
  });

  it('requires a rollback for every reversible fault', () => {
    const json = valid();
    json['rollbacks'] = [];
    expect(problems(json)).toEqual(['rollbacks: the fault "slow provider" is reversible: list a rollback for it']);
  });

  it('requires a tolerance on steady-state probes', () => {
    const json = valid();
    const hypothesis = json['steady-state-hypothesis'] as { probes: Array<Record<string, unknown>> };
    delete first(hypothesis.probes)['tolerance'];
    expect(problems(json)).toEqual([
      'steady-state-hypothesis.probes.0.tolerance: a steady-state probe needs a tolerance',
    ]);
  });

  it('rejects a provider other than our python modules, and an action running a probe', () => {
    const json = valid() as Json;
    first(json.method)['provider'] = { type: 'process', path: 'kill', arguments: '-9 1' };
    expect(problems(json)).toContainEqual(expect.stringMatching(/^method\.0\.provider\.type: only "python" providers/));
    const other = valid() as Json;
    provider(other)['module'] = 'chaosshop.probes';
    expect(problems(other)).toContainEqual('method.0.provider.module: an action runs a function of chaosshop.actions');
  });

  it('requires the shop extension with a load, and a method that fits in it', () => {
    const json = valid();
    json['extensions'] = [{ name: 'other' }];
    expect(problems(json)).toEqual(['extensions: exactly one extension named "shop" declares the load']);
    const closed = valid();
    closed['extensions'] = [{ name: 'shop', load: { mode: 'closed', durationSeconds: 60 } }];
    expect(problems(closed)).toEqual(['extensions.0.load: open load needs ratePerSecond, closed load needs users']);
    const short = valid();
    short['extensions'] = [{ name: 'shop', load: { mode: 'open', ratePerSecond: 5, durationSeconds: 10 } }];
    expect(problems(short)).toEqual([
      "method: the method's pauses (25 s) outlast the load (10 s): faults must happen under load",
    ]);
  });

  it('rejects a rollback that names no fault, and unknown keys', () => {
    const json = valid();
    first(json['rollbacks'] as Array<{ provider: { arguments: Record<string, unknown> } }>).provider.arguments[
      'action'
    ] = 'nothing';
    json['methdo'] = [];
    const found = problems(json);
    expect(found).toContainEqual(
      'rollbacks.0.provider.arguments.action: "nothing" is not a fault action of the method',
    );
    expect(found).toContainEqual(expect.stringMatching(/methdo/));
  });

  it('validates compose-only faults and marks the experiment as needing compose', () => {
    const json = validCalling('toxiproxy_latency', { link: 'payment-service->payment-provider', latencyMs: 2000 });
    expect(ACTIONS['toxiproxy_latency']?.needsCompose).toBe(true);
    expect(needsCompose(parseExperiment(json))).toBe(true);
  });
});
