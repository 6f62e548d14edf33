/**
 * `node --require @shop/observability/preload apps/<name>/dist/main.js`
 * (or --require with the absolute path of this file): tracing starts before
 * the app requires http, @nestjs/core or pg, which is the only way
 * they get patched. The service name comes from OTEL_SERVICE_NAME or
 * SERVICE_NAME, else from the app's package.json.
 *
 * Stack traces name the TypeScript lines of this project's code. The source
 * maps of node_modules are not loaded (`--enable-source-maps` would load
 * them, about 10 MB more of every service's memory for OpenTelemetry's alone).
 *
 * Nest's console-logger modules are loaded here, with date formatters that
 * are built on first use (lazy-nest-dates.ts): 8 to 9 MB of most services.
 */
import { setSourceMapsSupport } from 'node:module';
import { loadNestLoggersWithLazyDates } from './lazy-nest-dates';
import { startTelemetry } from './telemetry';

setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
startTelemetry();
try {
  loadNestLoggersWithLazyDates();
} catch (error) {
  // Only memory is at stake: the app loads Nest as it would have, with eager formatters.
  process.emitWarning(`@nestjs/common's loggers were not preloaded with lazy date formatters: ${String(error)}`);
}
