import { TOPICS } from '@shop/contracts';
import type { ActionActivity } from '../experiments/schema';
import { composeFault } from './compose-faults';
import { refuseConnections, terminateConnections } from './database-faults';
import type { Fault } from './fault';
import { httpFault, type HttpFaults } from './http-faults';
import { stopKafka } from './kafka-broker';
import { type DeadLetterExpectations, poisonMessages, replayConsumerGroup } from './message-faults';
import { killProcess, pauseProcess } from './process-faults';
import type { Service, StackTarget } from './target';

export interface FaultContext {
  readonly target: StackTarget;
  /** Shared with the `dead_letters` probe. */
  readonly deadLetters: DeadLetterExpectations;
}

/**
 * A method action of an experiment file (already validated by its schema) as
 * a Fault of this stack. `rollback` actions are not faults: the runner
 * handles them.
 */
export function createFault(action: ActionActivity, context: FaultContext): Fault {
  const { target } = context;
  const args = (action.provider.arguments ?? {}) as Record<string, unknown>;
  const service = args['service'] as Service;
  const seconds = (value: unknown, fallback: number) => (typeof value === 'number' ? value * 1000 : fallback);
  switch (action.provider.func) {
    case 'http_faults': {
      const { service: _service, ...faults } = args;
      return httpFault(target, service, faults as HttpFaults);
    }
    case 'kill_process':
      return killProcess(target, service, seconds(args['recoverTimeoutS'], 60_000));
    case 'pause_process':
      return pauseProcess(target, service);
    case 'stop_kafka':
      return stopKafka(target);
    case 'terminate_db_connections':
      return terminateConnections({ adminUrl: target.adminDatabaseUrl, database: target.database(service) });
    case 'refuse_db_connections':
      return refuseConnections({ adminUrl: target.adminDatabaseUrl, database: target.database(service) });
    case 'replay_consumer_group':
      return replayConsumerGroup(target, service, seconds(args['emptyTimeoutS'], 60_000));
    case 'poison_messages': {
      const topics = (args['topics'] as string[] | undefined) ?? Object.values(TOPICS).map((topic) => topic.name);
      return poisonMessages(target, topics, context.deadLetters);
    }
    case 'docker_kill':
    case 'docker_pause':
      return composeFault(action.provider.func, `${action.provider.func} ${service}`);
    case 'toxiproxy_latency':
    case 'toxiproxy_cut':
      return composeFault(action.provider.func, `${action.provider.func} ${String(args['link'])}`);
    default:
      throw new Error(`"${action.name}": ${action.provider.func} is not a fault`);
  }
}
