import http from 'node:http';
import https from 'node:https';

export interface HttpExchangeRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is (the caller serialises and sets content-type). */
  readonly body?: string;
  /** Aborts the request (a policy's timeout); the promise rejects. */
  readonly signal?: AbortSignal;
}

/** What came back: the status, the headers (lower-cased names) and the whole body as text. */
export interface HttpExchange {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/**
 * Connections are kept open and reused. A connection idle for 10 s is closed
 * on our side, long before the services' own keep-alive timeout (fastify's
 * 72 s), so a request is not sent on a socket the server is closing.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 10_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 10_000 }),
};

/**
 * One request and its whole answer, with node:http on kept-alive connections.
 * The services talk small JSON over a few connections; fetch (undici) spent
 * about twice the CPU per call in a profile of the gateway (a WHATWG stream,
 * a Headers object and a Response per call). Trace context goes with the
 * request: the http instrumentation injects `traceparent` into node:http
 * requests as the undici one does into fetch.
 */
export function httpExchange(url: string, request: HttpExchangeRequest): Promise<HttpExchange> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    const outgoing = client.request(
      target,
      { method: request.method, headers, agent, ...(request.signal ? { signal: request.signal } : {}) },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
        response.on('error', reject);
        // Closed before its end (the server went away, or the signal aborted): nothing to resolve with.
        response.on('close', () => {
          if (!response.complete) reject(new Error(`the answer from ${target.host} was cut off`));
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
