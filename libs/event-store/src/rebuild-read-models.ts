import { EventStore } from './event-store';
import { EVENT_STORE_MIGRATIONS, migrate, type Migration } from './migrations';
import { createPool } from './pool';
import { type Projection, rebuild } from './projections';

export interface RebuildTarget {
  /** The service, for messages. */
  readonly service: string;
  readonly databaseUrl: string;
  /** The service's own migrations (the event store's come first). */
  readonly migrations: readonly Migration[];
  readonly projections: readonly Projection[];
}

/**
 * What `npm run rebuild -- <service>` runs in the service's process: migrate,
 * then rebuild each read model (`rebuild`, inline mode) and print one line
 * per read model. Exit code 0, or 1 with the error.
 */
export function runRebuild(target: () => RebuildTarget): void {
  let service = 'service';
  const work = async () => {
    const { databaseUrl, migrations, projections, ...rest } = target();
    service = rest.service;
    const pool = createPool({ connectionString: databaseUrl, max: 1, applicationName: `${service}-rebuild` });
    try {
      await migrate(pool, [...EVENT_STORE_MIGRATIONS, ...migrations]);
      const store = new EventStore(pool);
      for (const projection of projections) {
        const began = performance.now();
        const replayed = await rebuild(pool, store, projection);
        const ms = Math.round(performance.now() - began);
        process.stdout.write(`${projection.name}: replayed ${replayed} events in ${ms} ms\n`);
      }
    } finally {
      await pool.end();
    }
  };
  work().then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      process.stderr.write(`${service} rebuild failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
