/**
 * The processes of the stack and what each one needs. The supervisor, the
 * test runner and the provisioning step all read this one table.
 */
export interface AppSpec {
  /** Nx project name and folder under apps/. */
  readonly name: string;
  /** Environment variable that sets its HTTP port (docs/contract.md, "Ports"). */
  readonly portEnv: string;
  /** Offset of its port inside a stack's port block (gateway = 0 → 3000). */
  readonly portOffset: number;
  /** Its own database (and login role), without the stack prefix. */
  readonly database?: string;
  /** Whether it talks to Kafka (and so reports Kafka in /health/ready). */
  readonly kafka: boolean;
  /** Whether it binds every interface (only the public door does). */
  readonly public: boolean;
  /** Whether it signs the users' tokens (and so gets the signing key). */
  readonly signsTokens?: boolean;
}

export const APPS: readonly AppSpec[] = [
  { name: 'gateway', portEnv: 'GATEWAY_PORT', portOffset: 0, kafka: false, public: true },
  {
    name: 'user-service',
    portEnv: 'USER_SERVICE_PORT',
    portOffset: 1,
    database: 'user',
    kafka: false,
    public: false,
    signsTokens: true,
  },
  {
    name: 'order-service',
    portEnv: 'ORDER_SERVICE_PORT',
    portOffset: 2,
    database: 'order',
    kafka: true,
    public: false,
  },
  {
    name: 'inventory-service',
    portEnv: 'INVENTORY_SERVICE_PORT',
    portOffset: 3,
    database: 'inventory',
    kafka: true,
    public: false,
  },
  {
    name: 'payment-service',
    portEnv: 'PAYMENT_SERVICE_PORT',
    portOffset: 4,
    database: 'payment',
    kafka: true,
    public: false,
  },
  {
    name: 'payment-provider',
    portEnv: 'PAYMENT_PROVIDER_PORT',
    portOffset: 5,
    database: 'payment_provider',
    kafka: false,
    public: false,
  },
];

/** Every service database, in provisioning order. */
export const DATABASES: readonly string[] = APPS.flatMap((app) => (app.database ? [app.database] : []));

export function appByName(name: string): AppSpec {
  const app = APPS.find((candidate) => candidate.name === name);
  if (!app) throw new Error(`unknown app "${name}"; known: ${APPS.map((a) => a.name).join(', ')}`);
  return app;
}

/** `URL` env name another process uses to reach this app, e.g. ORDER_SERVICE_URL. */
export function urlEnv(app: AppSpec): string {
  return app.portEnv.replace(/_PORT$/, '_URL');
}
