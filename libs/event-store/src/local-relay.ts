import type pg from 'pg';

/** What a writer needs of the relay that publishes its database's outbox in the same process. */
export interface LocalRelay {
  /** True while this relay holds the relay lock (it is the one that publishes). */
  readonly isLeading: boolean;
  /** Starts a pass now, or right after the one in progress. */
  nudge(): void;
}

const relays = new Map<pg.Pool, LocalRelay>();

/**
 * The relays running in this process, by the pool they read the outbox
 * with. A writer on the same pool whose statement committed wakes the relay
 * itself when that relay leads, instead of a NOTIFY through the server (which
 * also serialises the commits of every transaction that sends one). Returns
 * the unregistration.
 */
export function registerLocalRelay(pool: pg.Pool, relay: LocalRelay): () => void {
  relays.set(pool, relay);
  return () => {
    if (relays.get(pool) === relay) relays.delete(pool);
  };
}

/** The leading relay of this process for `pool`'s database, if there is one. */
export function leadingLocalRelay(pool: pg.Pool): LocalRelay | undefined {
  const relay = relays.get(pool);
  return relay?.isLeading ? relay : undefined;
}
