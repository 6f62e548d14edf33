import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test helper (specs only, not part of the build): a real HTTP dependency on
 * 127.0.0.1 that answers 200, fails with 503 or hangs, on demand, and counts
 * what reached it.
 */
export type Behaviour = 'ok' | 'fail' | 'hang';

export interface FlakyServer {
  readonly url: string;
  /** Requests that reached the server. */
  readonly hits: number;
  /** Requests held open right now. */
  readonly hanging: number;
  /** Requests the client gave up on before an answer (an aborted signal closes the socket). */
  readonly aborted: number;
  /** How every request is answered from now on. */
  behave(behaviour: Behaviour): void;
  /** How the next requests are answered, one each, before `behave` applies again. */
  next(...behaviours: Behaviour[]): void;
  /** Answers the hanging requests with 200. */
  release(): void;
  close(): Promise<void>;
}

export async function startFlakyServer(): Promise<FlakyServer> {
  let behaviour: Behaviour = 'ok';
  const queue: Behaviour[] = [];
  const held = new Set<ServerResponse>();
  let hits = 0;
  let aborted = 0;

  const answer = (response: ServerResponse, status: number) => {
    held.delete(response);
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ hit: hits }));
  };

  const server = createServer((_request, response) => {
    hits += 1;
    response.on('close', () => {
      if (!response.writableFinished) aborted += 1;
      held.delete(response);
    });
    const now = queue.shift() ?? behaviour;
    if (now === 'hang') held.add(response);
    else answer(response, now === 'ok' ? 200 : 503);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    get hits() {
      return hits;
    },
    get hanging() {
      return held.size;
    },
    get aborted() {
      return aborted;
    },
    behave: (next) => {
      behaviour = next;
    },
    next: (...behaviours) => {
      queue.push(...behaviours);
    },
    release: () => {
      for (const response of [...held]) answer(response, 200);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The call the specs protect: GET the server, a non-2xx answer is an error, the signal aborts it. */
export async function getJson(url: string, signal: AbortSignal): Promise<{ hit: number }> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()) as { hit: number };
}
