import { baseConfigShape, ConfigError, databaseConfigShape, kafkaConfigShape, loadConfig, port } from './config';

const shape = { ...baseConfigShape, ...databaseConfigShape, ...kafkaConfigShape, ORDER_SERVICE_PORT: port(3002) };
const valid = {
  DATABASE_URL: 'postgres://order:secret@127.0.0.1:5432/shop_order',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094',
};

function issuesOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig('order-service', shape, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the defaults of docs/contract.md', () => {
    const config = loadConfig('order-service', shape, valid);
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      ORDER_SERVICE_PORT: 3002,
      DB_POOL_MAX: 6,
      CHAOS_ENABLED: false,
      KAFKA_BROKERS: ['127.0.0.1:9092', '127.0.0.1:9094'],
    });
  });

  it('names each variable that is wrong', () => {
    const issues = issuesOf({ ...valid, ORDER_SERVICE_PORT: 'eighty', DATABASE_URL: 'mysql://x', DB_POOL_MAX: '500' });
    expect(issues.map((issue) => issue.split(':')[0])).toEqual(
      expect.arrayContaining(['ORDER_SERVICE_PORT', 'DATABASE_URL', 'DB_POOL_MAX']),
    );
  });

  it('requires the database and the broker', () => {
    expect(issuesOf({}).map((issue) => issue.split(':')[0])).toEqual(['DATABASE_URL', 'KAFKA_BROKERS']);
  });

  it('refuses a production start with fault injection on and no chaos token', () => {
    expect(issuesOf({ ...valid, NODE_ENV: 'production', CHAOS_ENABLED: 'true' })).toEqual([
      'CHAOS_TOKEN: required in production when CHAOS_ENABLED=true',
    ]);
    expect(issuesOf({ ...valid, NODE_ENV: 'production', CHAOS_ENABLED: 'true', CHAOS_TOKEN: 'x'.repeat(24) })).toEqual(
      [],
    );
  });

  it('refuses a production start with a pattern removed, and a pattern it does not know', () => {
    expect(issuesOf({ ...valid, NODE_ENV: 'production', UNSAFE_REMOVE_PATTERNS: 'inbox' })).toEqual([
      'UNSAFE_REMOVE_PATTERNS: removes inbox; not allowed in production',
    ]);
    expect(issuesOf({ ...valid, NODE_ENV: 'development', UNSAFE_REMOVE_PATTERNS: 'inbox,compensation' })).toEqual([]);
    expect(issuesOf({ ...valid, UNSAFE_REMOVE_PATTERNS: 'outboxx' })[0]).toMatch(/unknown patterns: outboxx/);
  });

  it('refuses a chaos token too short to be a secret', () => {
    expect(issuesOf({ ...valid, CHAOS_TOKEN: 'short' })[0]).toMatch(/^CHAOS_TOKEN/);
  });
});

describe('loadConfig with empty variables', () => {
  it('treats an empty variable as unset', () => {
    const config = loadConfig('order-service', shape, { ...valid, CHAOS_TOKEN: '', LOG_LEVEL: '' });
    expect(config.CHAOS_TOKEN).toBeUndefined();
    expect(config.LOG_LEVEL).toBe('info');
  });
});
