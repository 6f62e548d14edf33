import { z } from 'zod';
import { TOPICS } from '@shop/contracts';
import { CONSUMERS, DATABASES, SERVICES, type Service } from '../faults/target';

/**
 * An experiment file (chaos/experiments/*.json) in the Chaos Toolkit format:
 * title, description, tags, a steady-state hypothesis (probes with
 * tolerances), a method (actions and probes, with pauses) and rollbacks.
 *
 * Our faults and probes are Chaos Toolkit `python` providers of two modules
 * that this runner implements itself (there is no Python involved):
 * `chaosshop.actions` (the faults, and `rollback`) and `chaosshop.probes`.
 * `func` names the fault or probe, `arguments` its parameters, checked here
 * per function. The load an experiment runs under, and how long to wait for
 * quiet, are a Chaos Toolkit extension named "shop".
 */

const service = z.enum(SERVICES);
const withDatabase = service.refine((name) => DATABASES[name] !== undefined, {
  message: 'this service has no database (the gateway is stateless)',
});
const consumerServices = Object.keys(CONSUMERS) as Service[];
const consumer = service.refine((name) => CONSUMERS[name] !== undefined, {
  message: `only ${consumerServices.join(', ')} consume Kafka`,
});
const contractTopic = z.enum(Object.values(TOPICS).map((topic) => topic.name) as [string, ...string[]]);
const seconds = z.number().positive().max(600);

export interface FunctionSpec {
  readonly arguments: z.ZodType;
  /** A fault that leaves something changed until its rollback runs: the file must roll it back. */
  readonly reversible: boolean;
  /** Runs only against the docker compose stack (docker, toxiproxy); validated, never run by `npm start`'s runner. */
  readonly needsCompose: boolean;
  readonly summary: string;
}

const fault = (
  summary: string,
  args: z.ZodType,
  options: { reversible: boolean; needsCompose?: boolean },
): FunctionSpec => ({ summary, arguments: args, reversible: options.reversible, needsCompose: !!options.needsCompose });

/** `chaosshop.actions`: every fault kind, and `rollback`. */
export const ACTIONS: Readonly<Record<string, FunctionSpec>> = {
  http_faults: fault(
    'PUT /admin/faults on a service: latency, error rate, hang; the payment provider also declines and outage',
    z
      .strictObject({
        service,
        latencyMs: z.int().min(0).max(600_000).optional(),
        errorRate: z.number().min(0).max(1).optional(),
        hang: z.boolean().optional(),
        declineRate: z.number().min(0).max(1).optional(),
        outage: z.boolean().optional(),
      })
      .refine((args) => args.service === 'payment-provider' || (args.declineRate ?? args.outage) === undefined, {
        message: 'declineRate and outage exist only on the payment-provider',
      })
      .refine(
        (args) =>
          [args.latencyMs, args.errorRate, args.hang, args.declineRate, args.outage].some(
            (value) => value !== undefined,
          ),
        { message: 'set at least one of latencyMs, errorRate, hang, declineRate, outage' },
      ),
    { reversible: true },
  ),
  kill_process: fault(
    'kill -9 a service process (its pid file); the supervisor respawns it; rollback waits until it is ready again',
    z.strictObject({ service, recoverTimeoutS: seconds.optional() }),
    { reversible: false },
  ),
  pause_process: fault('SIGSTOP a service process; rollback SIGCONT', z.strictObject({ service }), {
    reversible: true,
  }),
  stop_kafka: fault(
    "stop the stack's Kafka broker (npm run kafka:stop); rollback starts it (npm run kafka:start)",
    z.strictObject({}),
    { reversible: true },
  ),
  terminate_db_connections: fault(
    "pg_terminate_backend every connection to a service's database",
    z.strictObject({ service: withDatabase }),
    { reversible: false },
  ),
  refuse_db_connections: fault(
    "a service's database refuses connections (allow_connections false, open ones terminated); rollback allows them",
    z.strictObject({ service: withDatabase }),
    { reversible: true },
  ),
  replay_consumer_group: fault(
    "SIGSTOP a consumer, wait for its group to be empty, reset the group's offsets to the earliest, SIGCONT",
    z.strictObject({ service: consumer, emptyTimeoutS: seconds.optional() }),
    { reversible: true },
  ),
  poison_messages: fault(
    'publish a non-JSON message, a wrong envelope and an unknown message type to each topic',
    z.strictObject({ topics: z.array(contractTopic).min(1).optional() }),
    { reversible: false },
  ),
  docker_kill: fault('docker kill a service container', z.strictObject({ service }), {
    reversible: false,
    needsCompose: true,
  }),
  docker_pause: fault('docker pause a service container; rollback docker unpause', z.strictObject({ service }), {
    reversible: true,
    needsCompose: true,
  }),
  toxiproxy_latency: fault(
    'toxiproxy latency toxic on a link (e.g. "payment-service->payment-provider"); rollback removes it',
    z.strictObject({ link: z.string().min(1), latencyMs: z.int().min(1), jitterMs: z.int().min(0).optional() }),
    { reversible: true, needsCompose: true },
  ),
  toxiproxy_cut: fault('toxiproxy disables a link; rollback enables it', z.strictObject({ link: z.string().min(1) }), {
    reversible: true,
    needsCompose: true,
  }),
  rollback: {
    summary: 'roll back the fault injected by the named method action (ends its fault window)',
    arguments: z.strictObject({ action: z.string().min(1) }),
    reversible: false,
    needsCompose: false,
  },
};

const probe = (summary: string, args: z.ZodType): FunctionSpec => ({
  summary,
  arguments: args,
  reversible: false,
  needsCompose: false,
});

/** Every probe takes `within_s`: the runner repeats it until its tolerance holds or the time is up. */
const within = { within_s: seconds.optional() };

/** `chaosshop.probes`. */
export const PROBES: Readonly<Record<string, FunctionSpec>> = {
  all_ready: probe(
    'true when GET /health/ready of every named service (default all six) answers 200, else the services that do not',
    z.strictObject({ services: z.array(service).min(1).optional(), ...within }),
  ),
  order_confirms: probe(
    'registers a customer, places one order through the gateway and returns its terminal status',
    z.strictObject({
      paymentToken: z.enum(['tok_visa', 'tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds']).optional(),
      timeoutS: seconds.optional(),
      ...within,
    }),
  ),
  breaker_state: probe(
    "a breaker's state from a service's /health/ready details (closed, open, half-open, or missing)",
    z.strictObject({ service: z.enum(['gateway', 'payment-service']), breaker: z.string().min(1), ...within }),
  ),
  stale_read: probe(
    "GET a catalog route through the gateway; its x-cache header ('stale'), else 'fresh', or the status when not 200",
    z.strictObject({ path: z.enum(['/products', '/products/:sku']).optional(), ...within }),
  ),
  unavailable_with_retry_after: probe(
    'places orders through the gateway: true when some answered 503, each 503 had Retry-After, and none was another 5xx',
    z.strictObject({ attempts: z.int().min(1).max(200), ...within }),
  ),
  dead_letters: probe(
    "true once every poisoned topic's dead-letter topic (<topic>.dlq) holds the poison messages its consumers rejected",
    z.strictObject({ ...within }),
  ),
  group_caught_up: probe(
    "true when a service's consumer group has committed up to the end of each of its topics",
    z.strictObject({ service: consumer, ...within }),
  ),
};

export const ToleranceSchema = z.union([
  z.boolean(),
  z.number(),
  z.string(),
  z.array(z.union([z.boolean(), z.number(), z.string()])).min(1),
  z.strictObject({ type: z.literal('range'), range: z.tuple([z.number(), z.number()]) }),
  z.strictObject({ type: z.literal('regex'), pattern: z.string().min(1) }),
]);
export type Tolerance = z.infer<typeof ToleranceSchema>;

const ProviderSchema = z.strictObject({
  type: z.literal('python', { error: 'only "python" providers of chaosshop.actions / chaosshop.probes are run here' }),
  module: z.enum(['chaosshop.actions', 'chaosshop.probes']),
  func: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

const PausesSchema = z.strictObject({
  before: z.number().min(0).max(600).optional(),
  after: z.number().min(0).max(600).optional(),
});

const ActionSchema = z.strictObject({
  type: z.literal('action'),
  name: z.string().min(1),
  provider: ProviderSchema,
  pauses: PausesSchema.optional(),
});

const ProbeSchema = z.strictObject({
  type: z.literal('probe'),
  name: z.string().min(1),
  provider: ProviderSchema,
  tolerance: ToleranceSchema.optional(),
  pauses: PausesSchema.optional(),
});

const ActivitySchema = z.discriminatedUnion('type', [ActionSchema, ProbeSchema]);

export const LoadSchema = z
  .strictObject({
    mode: z.enum(['open', 'closed']),
    ratePerSecond: z.number().positive().max(2_000).optional(),
    users: z.int().positive().max(1_000).optional(),
    durationSeconds: z.int().min(5).max(3_600),
    customers: z.int().positive().max(1_000).optional(),
    mix: z.strictObject({ browse: z.number().min(0), order: z.number().min(0), cancel: z.number().min(0) }).optional(),
  })
  .refine((load) => (load.mode === 'open' ? load.ratePerSecond !== undefined : load.users !== undefined), {
    message: 'open load needs ratePerSecond, closed load needs users',
  });

const ShopExtensionSchema = z.strictObject({
  name: z.literal('shop'),
  load: LoadSchema,
  /** How long to wait, after the rollbacks, for every order to end and every outbox to drain. */
  quietTimeoutS: z.number().positive().max(900).optional(),
});

const ExperimentShape = z.strictObject({
  version: z.string().optional(),
  title: z.string().min(1),
  description: z.string().min(1),
  tags: z.array(z.string().min(1)).min(1),
  contributions: z.record(z.string(), z.string()).optional(),
  configuration: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), z.unknown()).optional(),
  controls: z.array(z.unknown()).optional(),
  runtime: z.record(z.string(), z.unknown()).optional(),
  extensions: z.array(z.looseObject({ name: z.string() })).min(1),
  'steady-state-hypothesis': z.strictObject({
    title: z.string().min(1),
    probes: z.array(ProbeSchema).min(1),
  }),
  method: z.array(ActivitySchema).min(1),
  rollbacks: z.array(ActionSchema),
});

export type Activity = z.infer<typeof ActivitySchema>;
export type ActionActivity = z.infer<typeof ActionSchema>;
export type ProbeActivity = z.infer<typeof ProbeSchema>;
export type LoadSpec = z.infer<typeof LoadSchema>;
export type ShopExtension = z.infer<typeof ShopExtensionSchema>;
export type Experiment = z.infer<typeof ExperimentShape> & { readonly shop: ShopExtension };

function specOf(activity: Activity): FunctionSpec | undefined {
  const table = activity.provider.module === 'chaosshop.actions' ? ACTIONS : PROBES;
  return Object.hasOwn(table, activity.provider.func) ? table[activity.provider.func] : undefined;
}

export function functionSpec(activity: Activity): FunctionSpec {
  const spec = specOf(activity);
  if (!spec) throw new Error(`unknown function ${activity.provider.module}.${activity.provider.func}`);
  return spec;
}

/** The checks that span activities: functions and their arguments, names, rollbacks, the load's length. */
const ExperimentSchema = ExperimentShape.superRefine((experiment, ctx) => {
  const check = (activity: Activity, path: Array<string | number>) => {
    const expected = activity.type === 'action' ? 'chaosshop.actions' : 'chaosshop.probes';
    if (activity.provider.module !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'provider', 'module'],
        message: `an ${activity.type} runs a function of ${expected}`,
      });
      return;
    }
    const spec = specOf(activity);
    if (!spec) {
      const known = Object.keys(activity.type === 'action' ? ACTIONS : PROBES).join(', ');
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'provider', 'func'],
        message: `unknown ${expected} function "${activity.provider.func}"; known: ${known}`,
      });
      return;
    }
    const parsed = spec.arguments.safeParse(activity.provider.arguments ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({
          code: 'custom',
          path: [
            ...path,
            'provider',
            'arguments',
            ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)),
          ],
          message: issue.message,
        });
      }
    }
  };

  experiment['steady-state-hypothesis'].probes.forEach((probe, index) => {
    check(probe, ['steady-state-hypothesis', 'probes', index]);
    if (probe.tolerance === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['steady-state-hypothesis', 'probes', index, 'tolerance'],
        message: 'a steady-state probe needs a tolerance',
      });
    }
  });

  const names = new Map<string, number>();
  const faults = new Map<string, FunctionSpec>();
  experiment.method.forEach((activity, index) => {
    check(activity, ['method', index]);
    if (names.has(activity.name)) {
      ctx.addIssue({ code: 'custom', path: ['method', index, 'name'], message: `"${activity.name}" is used twice` });
    }
    names.set(activity.name, index);
    if (activity.type !== 'action') return;
    const spec = specOf(activity);
    if (activity.provider.func === 'rollback') {
      const target = String((activity.provider.arguments ?? {})['action'] ?? '');
      if (!faults.has(target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['method', index, 'provider', 'arguments', 'action'],
          message: `"${target}" is not a fault action earlier in the method`,
        });
      }
    } else if (spec) {
      faults.set(activity.name, spec);
    }
  });

  const rolledBack = new Set<string>();
  experiment.rollbacks.forEach((activity, index) => {
    check(activity, ['rollbacks', index]);
    if (activity.provider.func !== 'rollback') {
      ctx.addIssue({
        code: 'custom',
        path: ['rollbacks', index, 'provider', 'func'],
        message: 'a rollback runs chaosshop.actions.rollback, naming the method action it undoes',
      });
      return;
    }
    const target = String((activity.provider.arguments ?? {})['action'] ?? '');
    if (!faults.has(target)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rollbacks', index, 'provider', 'arguments', 'action'],
        message: `"${target}" is not a fault action of the method`,
      });
    }
    rolledBack.add(target);
  });
  for (const [name, spec] of faults) {
    if (spec.reversible && !rolledBack.has(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rollbacks'],
        message: `the fault "${name}" is reversible: list a rollback for it`,
      });
    }
  }

  const shop = experiment.extensions.filter((extension) => extension.name === 'shop');
  if (shop.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['extensions'],
      message: 'exactly one extension named "shop" declares the load',
    });
    return;
  }
  const extension = ShopExtensionSchema.safeParse(shop[0]);
  if (!extension.success) {
    const at = experiment.extensions.indexOf(shop[0] as (typeof experiment.extensions)[number]);
    for (const issue of extension.error.issues) {
      ctx.addIssue({
        code: 'custom',
        path: ['extensions', at, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))],
        message: issue.message,
      });
    }
    return;
  }
  const paused = methodSeconds(experiment.method);
  if (paused > extension.data.load.durationSeconds) {
    ctx.addIssue({
      code: 'custom',
      path: ['method'],
      message: `the method's pauses (${paused} s) outlast the load (${extension.data.load.durationSeconds} s): faults must happen under load`,
    });
  }
});

/** Seconds of pauses in a method (its actions' own run time comes on top). */
export function methodSeconds(method: readonly Activity[]): number {
  return method.reduce((sum, activity) => sum + (activity.pauses?.before ?? 0) + (activity.pauses?.after ?? 0), 0);
}

export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';

  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Validates one parsed experiment file; throws an ExperimentError listing every problem with its path. */
export function parseExperiment(json: unknown, source = 'experiment'): Experiment {
  const result = ExperimentSchema.safeParse(json);
  if (!result.success) {
    throw new ExperimentError(
      source,
      result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(file)'}: ${issue.message}`),
    );
  }
  const shop = ShopExtensionSchema.parse(result.data.extensions.find((extension) => extension.name === 'shop'));
  return { ...result.data, shop };
}

/** Whether an experiment needs the docker compose stack (it uses docker or toxiproxy faults). */
export function needsCompose(experiment: Experiment): boolean {
  return experiment.method.some((activity) => activity.type === 'action' && functionSpec(activity).needsCompose);
}
