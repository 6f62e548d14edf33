import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where one running stack is, as the chaos runner sees it from outside: the
 * names `npm start` (infra/stack) gives its processes, ports, databases,
 * topics and tokens. apps/chaos may not import infra/stack (module
 * boundaries), so the few rules it needs are repeated here; each says where
 * it comes from.
 */
export const SERVICES = [
  'gateway',
  'user-service',
  'order-service',
  'inventory-service',
  'payment-service',
  'payment-provider',
] as const;
export type Service = (typeof SERVICES)[number];

/** Each service's database without the stack prefix (infra/stack/src/apps.ts); the gateway has none. */
export const DATABASES: Readonly<Record<Service, string | undefined>> = {
  gateway: undefined,
  'user-service': 'user',
  'order-service': 'order',
  'inventory-service': 'inventory',
  'payment-service': 'payment',
  'payment-provider': 'payment_provider',
};

/**
 * The Kafka consumers of the stack: group `<stack>.<service>` and the contract
 * topics it reads (each service's `createConsumer` call). order.events has no
 * consumer inside the stack.
 */
export const CONSUMERS: Readonly<Partial<Record<Service, readonly string[]>>> = {
  'order-service': ['inventory.events', 'payment.events'],
  'inventory-service': ['inventory.commands'],
  'payment-service': ['payment.commands'],
};

export interface StackTarget {
  readonly id: string;
  /** Port block: 0 for `npm start`, n moves every port by n × 10000. */
  readonly block: number;
  /** The workspace root (holds nx.json). */
  readonly root: string;
  /** Pid files and tokens: .run for the dev stack "shop", .run/stacks/<id> for any other. */
  readonly runDir: string;
  readonly brokers: readonly string[];
  /** A superuser connection to the stack's PostgreSQL server (its `postgres` database). */
  readonly adminDatabaseUrl: string;
  readonly chaosToken: string;
  /** The operator token of `POST /admin/stock` (ADMIN_TOKEN, else the stack's admin-token file). */
  readonly adminToken: string;
  url(service: Service): string;
  /** `<stack>_<database>`: a service's database and its login role (infra/stack/src/postgres.ts). */
  database(service: Service): string;
  /** `<stack>.<name>`: topics and consumer groups (libs/messaging `scoped`). */
  scoped(name: string): string;
  pidFile(service: Service): string;
}

export function isService(name: string): name is Service {
  return (SERVICES as readonly string[]).includes(name);
}

export function findRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${start}: run the chaos CLI from inside the workspace`);
    dir = parent;
  }
}

const PORT_OFFSET: Readonly<Record<Service, number>> = {
  gateway: 0,
  'user-service': 1,
  'order-service': 2,
  'inventory-service': 3,
  'payment-service': 4,
  'payment-provider': 5,
};

/** GATEWAY_URL, ORDER_SERVICE_URL, …: what `npm test` exports for the test stack. */
function urlEnv(service: Service): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_URL`;
}

/**
 * The stack named by `id` (default STACK_ID, else "shop"), in port block
 * `block` (default STACK_PORT_BLOCK, else 0). Environment overrides: each
 * `<SERVICE>_URL`, KAFKA_BROKERS, CHAOS_TOKEN, CHAOS_ADMIN_DATABASE_URL.
 */
export function resolveStack(
  options: { id?: string | undefined; block?: number | undefined; root?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): StackTarget {
  const id = options.id ?? env['STACK_ID'] ?? 'shop';
  if (!/^[a-z][a-z0-9]{0,15}$/.test(id)) throw new Error(`stack id "${id}" must be 1-16 lowercase letters or digits`);
  const block = options.block ?? (env['STACK_PORT_BLOCK'] === undefined ? 0 : Number(env['STACK_PORT_BLOCK']));
  if (!Number.isInteger(block) || block < 0 || block > 5) throw new Error(`port block must be 0..5, got ${block}`);
  const root = options.root ?? findRoot();
  const runDir = id === 'shop' && block === 0 ? path.join(root, '.run') : path.join(root, '.run', 'stacks', id);
  const tokenFile = path.join(runDir, 'chaos-token');
  const chaosToken = env['CHAOS_TOKEN'] ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
  const adminTokenFile = path.join(runDir, 'admin-token');
  const adminToken =
    env['ADMIN_TOKEN'] ?? (existsSync(adminTokenFile) ? readFileSync(adminTokenFile, 'utf8').trim() : '');
  const adminDatabaseUrl =
    env['CHAOS_ADMIN_DATABASE_URL'] ??
    `postgres://${env['PGUSER'] ?? 'postgres'}@${env['PGHOST'] ?? '127.0.0.1'}:${env['PGPORT'] ?? '5432'}/postgres`;
  const brokers = (env['KAFKA_BROKERS'] ?? `127.0.0.1:${9092 + block * 10000}`)
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  return {
    id,
    block,
    root,
    runDir,
    brokers,
    adminDatabaseUrl,
    chaosToken,
    adminToken,
    url: (service) => env[urlEnv(service)] ?? `http://127.0.0.1:${3000 + block * 10000 + PORT_OFFSET[service]}`,
    database: (service) => {
      const database = DATABASES[service];
      if (!database) throw new Error(`${service} has no database`);
      return `${id}_${database}`;
    },
    scoped: (name) => `${id}.${name}`,
    pidFile: (service) => path.join(runDir, `${service}.pid`),
  };
}
