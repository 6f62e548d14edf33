import { z } from 'zod';
import type { PaymentDeclineReason } from '@shop/contracts';
import { PermanentError, TransientError } from '@shop/messaging';
import {
  createPolicy,
  httpExchange,
  type Policy,
  type PolicyRegistry,
  ResilienceError,
  type ResilienceLogger,
} from '@shop/resilience';
import type { ServiceConfig } from '../config';

/** The breaker's name in logs, metrics (label `policy`) and /health/ready details. */
export const PROVIDER_POLICY = 'payment-provider';

/** A definitive answer of the provider: a status it chose and its body (JSON, or undefined). */
interface HttpReply {
  readonly status: number;
  readonly body: unknown;
}

export type ChargeReply =
  | { readonly outcome: 'captured'; readonly chargeId: string }
  | { readonly outcome: 'declined'; readonly chargeId: string; readonly reason: PaymentDeclineReason };

export interface ChargeRequest {
  readonly orderId: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly token: string;
}

const ChargeBody = z.object({
  chargeId: z.string().min(1),
  status: z.enum(['captured', 'declined']),
  declineCode: z.string().optional(),
});
const RefundBody = z.object({ refundId: z.string().min(1), amountCents: z.int().nonnegative() });
const LedgerBody = z.object({
  items: z.array(
    z.object({
      chargeId: z.string().min(1),
      reference: z.string(),
      amountCents: z.int().nonnegative(),
      status: z.string(),
    }),
  ),
});

/** The provider refused the request for good (a 4xx other than 408/429): no retry can change its answer. */
export class ProviderRefusedError extends PermanentError {
  constructor(what: string, reply: HttpReply) {
    super(`payment provider refused ${what} with ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
}

/** The card processor's decline codes in the words of docs/contract.md; any code we do not know is a plain decline. */
export function declineReason(declineCode: string | undefined): PaymentDeclineReason {
  return declineCode === 'insufficient_funds' ? 'INSUFFICIENT_FUNDS' : 'PAYMENT_DECLINED';
}

/**
 * The one policy every call to the provider goes through: timeout, breaker,
 * bulkhead, and retries with backoff, which are safe because every write
 * carries an Idempotency-Key (the provider answers a repeated key with the
 * first answer and never charges twice).
 */
export function createProviderPolicy(
  config: ServiceConfig,
  registry: PolicyRegistry,
  logger: ResilienceLogger,
): Policy<HttpReply> {
  return createPolicy<HttpReply>({
    name: PROVIDER_POLICY,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    errorThresholdPercentage: config.PROVIDER_BREAKER_ERROR_PERCENT,
    volumeThreshold: config.PROVIDER_BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: config.PROVIDER_BREAKER_RESET_MS,
    capacity: config.PROVIDER_BULKHEAD_CAPACITY,
    idempotent: true,
    retry: {
      attempts: config.PROVIDER_RETRY_ATTEMPTS,
      baseDelayMs: config.PROVIDER_RETRY_BASE_DELAY_MS,
      maxDelayMs: config.PROVIDER_RETRY_MAX_DELAY_MS,
    },
    registry,
    logger,
  });
}

/**
 * payment-provider's API (docs/contract.md), as payment-service uses it.
 *
 * While the provider cannot answer (connection refused, 5xx such as an
 * outage's 503, 408/429, a hang past the timeout, the breaker open, the
 * bulkhead full), every method throws TransientError: the consumer keeps the
 * command and tries it again later. Such a failure is never turned into a
 * decline. A definitive refusal (another 4xx) throws ProviderRefusedError, a
 * PermanentError.
 */
export class PaymentProviderClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly policy: Policy<HttpReply>,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** POST /v1/charges with the order id as Idempotency-Key and reference: a retry never charges twice. */
  async charge(request: ChargeRequest): Promise<ChargeReply> {
    const reply = await this.send(request.orderId, 'POST', '/v1/charges', {
      idempotencyKey: request.orderId,
      body: {
        reference: request.orderId,
        amountCents: request.amountCents,
        currency: request.currency,
        token: request.token,
      },
    });
    if (!isSuccess(reply)) throw new ProviderRefusedError(`the charge of order ${request.orderId}`, reply);
    const { chargeId, status, declineCode } = parse(ChargeBody, reply, 'a charge');
    return status === 'captured'
      ? { outcome: 'captured', chargeId }
      : { outcome: 'declined', chargeId, reason: declineReason(declineCode) };
  }

  /** POST /v1/charges/:chargeId/refunds with Idempotency-Key `refund-<orderId>`: one refund per order, ever. */
  async refund(
    orderId: string,
    chargeId: string,
    amountCents: number,
  ): Promise<{ refundId: string; amountCents: number }> {
    const reply = await this.send(orderId, 'POST', `/v1/charges/${encodeURIComponent(chargeId)}/refunds`, {
      idempotencyKey: `refund-${orderId}`,
      body: { amountCents },
    });
    if (!isSuccess(reply)) throw new ProviderRefusedError(`the refund of order ${orderId}`, reply);
    return parse(RefundBody, reply, 'a refund');
  }

  /** The provider's ledger for the order (GET /v1/charges?reference=): the capture it holds, if any. */
  async capturedCharge(orderId: string): Promise<{ chargeId: string; amountCents: number } | undefined> {
    const reply = await this.send(orderId, 'GET', `/v1/charges?reference=${encodeURIComponent(orderId)}`, {});
    if (!isSuccess(reply)) throw new ProviderRefusedError(`the ledger of order ${orderId}`, reply);
    const charge = parse(LedgerBody, reply, 'the ledger').items.find(
      (item) => item.reference === orderId && item.status === 'captured',
    );
    return charge && { chargeId: charge.chargeId, amountCents: charge.amountCents };
  }

  private async send(
    orderId: string,
    method: 'GET' | 'POST',
    path: string,
    { idempotencyKey, body }: { idempotencyKey?: string; body?: unknown },
  ): Promise<HttpReply> {
    try {
      const result = await this.policy.execute(orderId, async (signal) => {
        const response = await httpExchange(`${this.baseUrl}${path}`, {
          method,
          signal,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = response.text;
        // Thrown, so the breaker counts it and the policy retries it: the provider cannot answer right now.
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          throw new Error(`payment provider answered ${response.status}`);
        }
        return { status: response.status, body: parseJson(text) };
      });
      return result.value;
    } catch (error) {
      if (error instanceof ResilienceError) {
        throw new TransientError(`payment provider unavailable: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
}

function isSuccess(reply: HttpReply): boolean {
  return reply.status >= 200 && reply.status < 300;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A 2xx that is not what the contract promises is a provider that does not work: wait for it, as for an outage. */
function parse<T>(schema: z.ZodType<T>, reply: HttpReply, what: string): T {
  const parsed = schema.safeParse(reply.body);
  if (!parsed.success) {
    throw new TransientError(`payment provider answered ${what} that does not match its API: ${parsed.error.message}`);
  }
  return parsed.data;
}
