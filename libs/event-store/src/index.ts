export { createPool, postgresReadiness, type PoolOptions } from './pool';
export { migrate, EVENT_STORE_MIGRATIONS, type Migration } from './migrations';
export {
  EventStore,
  checkpointOf,
  OUTBOX_CHANNEL,
  standaloneWrites,
  type AlongsideWrite,
  type AppendCondition,
  type AppendOptions,
  type CausingMessage,
  type ClaimWrite,
  type StreamAppend,
} from './event-store';
export {
  ConcurrencyError,
  START,
  type AppendResult,
  type Checkpoint,
  type ExpectedVersion,
  type NewEvent,
  type OutboxMessage,
  type RecordedEvent,
} from './types';
export type { Decider, DomainEvent } from './decider';
export {
  handleCommand,
  loadAggregate,
  toDomainEvent,
  type CommandOptions,
  type CommandResult,
} from './command-handler';
export { loadSnapshot, saveSnapshot } from './snapshots';
export { BoundedMap } from './bounded-map';
export { decideOnAssumedState, StateCache, UNCHECKED, type AssumedState, type CachedState } from './state-cache';
export { handleManyOnce, handleOnce, recordInInbox, recordManyInInbox, type InboxOutcome } from './inbox';
export { lockStreamAndRecord, lockStreams, lockStreamsAndRecord } from './stream-locks';
export { catchUp, rebuild, runProjectionOnce, type Projection } from './projections';
export { runRebuild, type RebuildTarget } from './rebuild-read-models';
export {
  OutboxRelay,
  type OutboxPublisher,
  type OutboxRelayOptions,
  type PendingMessage,
  type RelayLogger,
} from './outbox-relay';
export { kafkaOutboxPublisher, type BatchSender } from './kafka-publisher';
export { pruneInbox, pruneOutbox } from './retention';
