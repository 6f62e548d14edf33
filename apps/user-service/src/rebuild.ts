import { runRebuild } from '@shop/event-store';
import { baseConfigShape, databaseConfigShape, loadConfig } from '@shop/health';
import { USER_MIGRATIONS, usersProjection } from './user/users.projection';

/**
 * `npm run rebuild -- user-service`: replays every user event into a fresh
 * `users` read model, in one transaction (readers and writers of the running
 * service wait for it, then see the rebuilt model). It needs only the
 * service's database (DATABASE_URL), not the signing key.
 */
runRebuild(() => ({
  service: 'user-service',
  databaseUrl: loadConfig('user-service', { ...baseConfigShape, ...databaseConfigShape }).DATABASE_URL,
  migrations: USER_MIGRATIONS,
  projections: [usersProjection],
}));
