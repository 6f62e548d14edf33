import { composeServiceEnv, envFileVariables, interpolate, unreadVariables } from './compose';

describe('interpolate, as docker-compose does', () => {
  const variables = { SET: 'value', EMPTY: '' };

  it.each([
    ['${SET}', 'value'],
    ['$SET/x', 'value/x'],
    ['${SET:-fallback}', 'value'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${MISSING-fallback}', 'fallback'],
    ['${MISSING:-}', ''],
    ['pg_isready -U $$POSTGRES_USER', 'pg_isready -U $POSTGRES_USER'],
    ['postgres://u:${MISSING:-pw}@host:5432/db', 'postgres://u:pw@host:5432/db'],
  ])('%s → %s', (text, expected) => {
    expect(interpolate(text, variables, 'spec')).toBe(expected);
  });

  it('fails on a variable that is unset and has no default, or is required', () => {
    expect(() => interpolate('${MISSING}', variables, 'spec')).toThrow('${MISSING} is not set and has no default');
    expect(() => interpolate('${EMPTY:?needed}', variables, 'spec')).toThrow('${EMPTY} is not set (needed)');
    expect(interpolate('${EMPTY?needed}', variables, 'spec')).toBe('');
  });
});

describe('composeServiceEnv', () => {
  it('merges the shared environment and resolves the defaults', () => {
    const env = composeServiceEnv('order-service');
    expect(env).toMatchObject({ STACK_ID: 'shop', HOST: '0.0.0.0', ORDER_SERVICE_PORT: '3002', CHAOS_TOKEN: '' });
    expect(env['DATABASE_URL']).toMatch(/^postgres:\/\/order:order-local@/);
  });

  it('takes values from an env file over the defaults', () => {
    const env = composeServiceEnv('order-service', { ...envFileVariables(), ORDER_DB_PASSWORD: 'from-env' });
    expect(env['DATABASE_URL']).toMatch(/^postgres:\/\/order:from-env@/);
  });

  it('names a service the file does not have', () => {
    expect(() => composeServiceEnv('no-such-service')).toThrow('no service "no-such-service"');
  });
});

describe('envFileVariables', () => {
  it('reads .env.example, empty values included', () => {
    expect(envFileVariables()).toMatchObject({ NODE_ENV: 'development', CHAOS_TOKEN: '' });
  });
});

describe('unreadVariables', () => {
  it('names what the shape does not read, leaving OTEL_* to the SDK', () => {
    expect(unreadVariables({ A: '1', B: '2', OTEL_TRACES_EXPORTER: 'otlp' }, { A: null })).toEqual(['B']);
  });
});
