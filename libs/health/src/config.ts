import { z } from 'zod';
import { REMOVE_PATTERNS_ENV, removedPatterns } from '@shop/resilience';

/**
 * Configuration every service shares, read from the environment and checked
 * once at start-up. A service extends it with its own variables; a bad value
 * stops the process with a message naming the variable.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A TCP port; 0 asks the system for a free one (the integration tests do). */
export function port(defaultPort: number) {
  return z.coerce.number().int().min(0).max(65_535).default(defaultPort);
}

export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  STACK_ID: z
    .string()
    .regex(/^[a-z][a-z0-9]{0,15}$/, 'lowercase letters and digits, starting with a letter')
    .default('shop'),
  CHAOS_ENABLED: z.stringbool().default(false),
  CHAOS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  [REMOVE_PATTERNS_ENV]: z.string().optional(),
} as const;

export type BaseConfig = z.infer<z.ZodObject<typeof baseConfigShape>>;

export const databaseConfigShape = {
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(50).default(6),
} as const;

export const kafkaConfigShape = {
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    ),
} as const;

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly issues: readonly string[],
  ) {
    super(`${service}: invalid configuration\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets that must be set explicitly when NODE_ENV=production. */
function productionIssues(env: Record<string, unknown>): string[] {
  const issues: string[] = [];
  if (env['NODE_ENV'] === 'production' && env['CHAOS_ENABLED'] === true && !env['CHAOS_TOKEN']) {
    issues.push('CHAOS_TOKEN: required in production when CHAOS_ENABLED=true');
  }
  // The switches that remove a pattern to prove it (docs/patterns-proven.md): never in production.
  try {
    const removed = removedPatterns({ [REMOVE_PATTERNS_ENV]: env[REMOVE_PATTERNS_ENV] as string | undefined });
    if (removed.size > 0 && env['NODE_ENV'] === 'production') {
      issues.push(`${REMOVE_PATTERNS_ENV}: removes ${[...removed].join(', ')}; not allowed in production`);
    }
  } catch (error) {
    issues.push(error instanceof Error ? error.message : String(error));
  }
  return issues;
}

export function loadConfig<Shape extends z.ZodRawShape>(
  service: string,
  shape: Shape,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  // An empty variable (`CHAOS_TOKEN=` in a compose file) means "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = z.object(shape).safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      service,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  const issues = productionIssues(result.data as Record<string, unknown>);
  if (issues.length) throw new ConfigError(service, issues);
  return result.data;
}
