/** An event to append: the store gives it its id (unless set), version and position. */
export interface NewEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly schemaVersion?: number;
  readonly id?: string;
}

export interface RecordedEvent {
  readonly id: string;
  readonly streamId: string;
  /** 1 for the first event of a stream, gap-free. */
  readonly streamVersion: number;
  /** Unique and increasing within a transaction; see `Checkpoint` for the read order. */
  readonly position: bigint;
  readonly transactionId: bigint;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recordedAt: Date;
}

/**
 * Where a reader of all events stands. Events are read in the order
 * (transaction id, position), and only from transactions that have ended, so
 * nothing can later appear before a checkpoint (ADR 0004).
 */
export interface Checkpoint {
  readonly transactionId: bigint;
  readonly position: bigint;
}

export const START: Checkpoint = { transactionId: 0n, position: 0n };

/** The stream's current version must be this number; `no_stream` means 0 events; `any` skips the check. */
export type ExpectedVersion = number | 'no_stream' | 'any';

/** A message to publish, written to the outbox in the same transaction as the events. */
export interface OutboxMessage {
  /** Unique id of the message (the envelope id); consumers deduplicate on it. */
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AppendResult {
  /** The stream's version after the append. */
  readonly nextVersion: number;
  readonly positions: readonly bigint[];
}

export class ConcurrencyError extends Error {
  /**
   * True when a one-statement append found a stream's lock held by another
   * transaction and wrote nothing: the state it decided on may still be the
   * stream's (the holder may append nothing), so a cache need not drop it.
   */
  readonly locked: boolean;

  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number | undefined,
    options: { readonly locked?: boolean } = {},
  ) {
    super(
      `stream ${streamId}: expected version ${String(expected)}, ` +
        (options.locked
          ? 'but another transaction holds its lock'
          : actual === undefined
            ? 'but another writer appended concurrently'
            : `but it is at ${actual}`),
    );
    this.name = 'ConcurrencyError';
    this.locked = options.locked ?? false;
  }
}
