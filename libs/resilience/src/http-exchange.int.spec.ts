import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpExchange } from './http-exchange';

/** httpExchange against a real local server: the answer, kept-alive connections, an abort. */
describe('httpExchange (a real HTTP server on loopback)', () => {
  let server: http.Server;
  let base: string;
  const sockets = new Set<unknown>();
  let hang: (() => void) | undefined;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      sockets.add(request.socket);
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        if (request.url === '/hang') {
          hang = () => response.end();
          return;
        }
        response.writeHead(request.url === '/missing' ? 404 : 201, {
          'content-type': 'application/json',
          location: '/things/1',
        });
        response.end(JSON.stringify({ method: request.method, body, key: request.headers['idempotency-key'] ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    hang?.();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the method, headers and body, and returns status, headers and the whole body', async () => {
    const answer = await httpExchange(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body: JSON.stringify({ name: 'mug' }),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers['location']).toBe('/things/1');
    expect(JSON.parse(answer.text)).toEqual({ method: 'POST', body: '{"name":"mug"}', key: 'k-1' });
    expect((await httpExchange(`${base}/missing`, { method: 'GET' })).status).toBe(404);
  });

  it('reuses its connection for calls one after another', async () => {
    sockets.clear();
    for (let i = 0; i < 5; i++) await httpExchange(`${base}/things`, { method: 'GET' });
    expect(sockets.size).toBe(1);
  });

  it('rejects when its signal aborts a call that has no answer yet', async () => {
    const controller = new AbortController();
    const call = httpExchange(`${base}/hang`, { method: 'GET', signal: controller.signal });
    controller.abort(new Error('timed out'));
    await expect(call).rejects.toThrow();
  });

  it('rejects when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(httpExchange(`http://127.0.0.1:${port}/`, { method: 'GET' })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
