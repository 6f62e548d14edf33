import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test helper (specs only, not part of the build): a stand-in for the card
 * processor on 127.0.0.1, for the failures a test must control exactly
 * (outage, hang, refused connections, each decline code). It speaks the
 * provider API of docs/contract.md (charges and refunds once per
 * Idempotency-Key, the ledger by reference) and records every request.
 */
export type StandInMode = 'answer' | 'outage' | 'hang';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly body: Record<string, unknown> | undefined;
}

export interface StandInCharge {
  readonly chargeId: string;
  readonly reference: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly status: 'captured' | 'declined';
  readonly declineCode?: string;
  refundedCents: number;
}

export interface ProviderStandIn {
  readonly url: string;
  /** Every request that reached the stand-in, in arrival order. */
  readonly requests: readonly SeenRequest[];
  /** Requests whose client gave up before an answer (a timeout closes the socket). */
  readonly aborted: number;
  /** The stand-in's ledger. */
  charges(reference: string): StandInCharge[];
  requestsTo(path: string): SeenRequest[];
  /** How requests are answered from now on. */
  mode(mode: StandInMode): void;
  /** Stop listening (clients get ECONNREFUSED) until `acceptConnections`; same port. */
  refuseConnections(): Promise<void>;
  acceptConnections(): Promise<void>;
  close(): Promise<void>;
}

const DECLINES: Record<string, string> = {
  tok_chargeDeclined: 'card_declined',
  tok_chargeDeclinedInsufficientFunds: 'insufficient_funds',
};

export async function startProviderStandIn(): Promise<ProviderStandIn> {
  let mode: StandInMode = 'answer';
  let aborted = 0;
  const requests: SeenRequest[] = [];
  const ledger: StandInCharge[] = [];
  /** scope|key → the answer given, replayed for the same key. */
  const answered = new Map<string, { status: number; body: unknown }>();

  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  function answer(method: string, url: URL, key: string | undefined, body: Record<string, unknown> | undefined) {
    if (method === 'GET' && url.pathname === '/v1/charges') {
      const reference = url.searchParams.get('reference') ?? '';
      return { status: 200, body: { items: ledger.filter((charge) => charge.reference === reference) } };
    }
    if (method !== 'POST' || !key || !body) return { status: 400, body: { title: 'bad request' } };
    const refund = /^\/v1\/charges\/([^/]+)\/refunds$/.exec(url.pathname);
    const scope = refund ? `refund|${key}` : `charge|${key}`;
    const replay = answered.get(scope);
    if (replay) return replay;
    let result: { status: number; body: unknown };
    if (url.pathname === '/v1/charges') {
      const declineCode = DECLINES[String(body['token'])];
      const charge: StandInCharge = {
        chargeId: `ch_${randomUUID()}`,
        reference: String(body['reference']),
        amountCents: Number(body['amountCents']),
        currency: String(body['currency']),
        status: declineCode ? 'declined' : 'captured',
        ...(declineCode ? { declineCode } : {}),
        refundedCents: 0,
      };
      ledger.push(charge);
      result = {
        status: 201,
        body: { chargeId: charge.chargeId, status: charge.status, ...(declineCode ? { declineCode } : {}) },
      };
    } else if (refund) {
      const charge = ledger.find((candidate) => candidate.chargeId === refund[1]);
      const amountCents = Number(body['amountCents']);
      if (!charge) return { status: 404, body: { title: 'charge not found' } };
      if (charge.status !== 'captured' || charge.refundedCents + amountCents > charge.amountCents) {
        return { status: 409, body: { title: 'charge not refundable' } };
      }
      charge.refundedCents += amountCents;
      result = { status: 201, body: { refundId: `re_${randomUUID()}`, chargeId: charge.chargeId, amountCents } };
    } else {
      return { status: 404, body: { title: 'not found' } };
    }
    answered.set(scope, result);
    return result;
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://stand-in');
      const key = request.headers['idempotency-key'];
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      const idempotencyKey = Array.isArray(key) ? key[0] : key;
      requests.push({ method: request.method ?? '', path: url.pathname, idempotencyKey, body });
      response.on('close', () => {
        if (!response.writableFinished) aborted += 1;
      });
      if (mode === 'hang') return;
      if (mode === 'outage') {
        // As the provider in an outage: 503 and nothing is written.
        send(response, 503, { title: 'service unavailable', status: 503 });
        return;
      }
      const result = answer(request.method ?? '', url, idempotencyKey, body);
      send(response, result.status, result.body);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stopListening = () =>
    new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get aborted() {
      return aborted;
    },
    charges: (reference) => ledger.filter((charge) => charge.reference === reference),
    requestsTo: (path) => requests.filter((request) => request.path === path),
    mode: (next) => {
      mode = next;
    },
    refuseConnections: stopListening,
    acceptConnections: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: async () => {
      if (server.listening) await stopListening();
    },
  };
}
