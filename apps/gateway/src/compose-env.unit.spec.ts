import { composeServiceEnv, envFileVariables, unreadVariables } from '@shop/testing';
import { configShape, loadServiceConfig } from './config';

/** docker-compose.yml starts gateway with an environment its own config accepts, with and without a .env. */
describe('gateway in docker-compose.yml', () => {
  it.each([
    ['no .env', {}],
    ['.env.example copied to .env', envFileVariables('.env.example')],
  ])('gets an environment its config accepts, with %s', (_, variables) => {
    const env = composeServiceEnv('gateway', variables);
    expect(() => loadServiceConfig(env)).not.toThrow();
    expect(unreadVariables(env, configShape)).toEqual([]);
  });
});
