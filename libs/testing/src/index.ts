export { waitFor } from './wait-for';
export { testStackId, uniqueName } from './names';
export { adminDatabaseUrl, kafkaBrokers } from './infra';
export { createTestDatabase, type TestDatabase } from './database';
export { startTestBroker, stopTestBroker } from './broker-control';
export { jsonRefs, resolveJsonRef } from './json-refs';
export { composeServiceEnv, envFileVariables, unreadVariables, type ComposeVariables } from './compose';
