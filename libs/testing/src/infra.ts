/**
 * Where the real broker and database of this test run are. `npm test` starts
 * them (or finds them) and exports these variables before jest runs; a test
 * run without them fails here with a message, not with a connection error.
 */
export function kafkaBrokers(): string[] {
  const brokers = process.env['KAFKA_BROKERS'];
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the tests through `npm test`, which starts Kafka');
  return brokers.split(',');
}

/** A superuser connection to the test run's PostgreSQL server. */
export function adminDatabaseUrl(): string {
  const url = process.env['TEST_ADMIN_DATABASE_URL'];
  if (!url) throw new Error('TEST_ADMIN_DATABASE_URL is not set: run the tests through `npm test`');
  return url;
}
