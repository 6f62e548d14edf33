import { createTestDatabase, type TestDatabase } from '@shop/testing';
import { loadServiceConfig, type ServiceConfig } from './config';
import { startUserService } from './user-service';

/** user-service running in this process on a fresh database, as the integration specs use it. */
export interface TestService {
  readonly url: string;
  readonly db: TestDatabase;
  readonly config: ServiceConfig;
  /** Every log line written so far. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts the service through startUserService (so bootstrapService, the real
 * HTTP server and the real database) on a port the OS picks, with its log
 * lines captured.
 */
export async function startTestService(prefix: string, env: NodeJS.ProcessEnv = {}): Promise<TestService> {
  const db = await createTestDatabase(prefix);
  const lines: string[] = [];
  try {
    const config: ServiceConfig = {
      ...loadServiceConfig({ NODE_ENV: 'test', LOG_LEVEL: 'debug', DATABASE_URL: db.url, ...env }),
      USER_SERVICE_PORT: 0,
    };
    const app = await startUserService(config, { logDestination: { write: (line: string) => lines.push(line) } });
    const url = await app.getUrl();
    return {
      url,
      db,
      config,
      logs: () => lines.join(''),
      async stop() {
        await app.close();
        await db.drop();
      },
    };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** One HTTP call with a JSON body (given as a value, or as raw text to send malformed JSON). */
export async function call(
  url: string,
  method: 'GET' | 'POST',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
