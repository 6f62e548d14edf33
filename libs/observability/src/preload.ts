/**
 * `node --require @shop/observability/preload apps/<name>/dist/main.js`
 * (or --require with the absolute path of this file): tracing starts before
 * the app requires http, @nestjs/core or pg, which is the only way
 * they get patched. The service name comes from OTEL_SERVICE_NAME or
 * SERVICE_NAME, else from the app's package.json.
 */
import { startTelemetry } from './telemetry';

startTelemetry();
