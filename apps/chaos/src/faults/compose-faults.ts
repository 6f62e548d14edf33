import type { Fault } from './fault';

/**
 * Faults of the docker compose stack (docker kill/pause, toxiproxy latency and
 * cut links). Experiment files may use them and `validate` checks them, but
 * the runner here drives the `npm start` stack, which has no containers and
 * no proxies between services, so it refuses them before anything starts.
 */
export class NeedsComposeError extends Error {
  override readonly name = 'NeedsComposeError';
}

export function composeFault(kind: string, description: string): Fault {
  const refuse = () =>
    Promise.reject(new NeedsComposeError(`${kind} needs the docker compose stack (docker, toxiproxy): ${description}`));
  return { kind, description, inject: refuse, rollback: () => Promise.resolve() };
}
