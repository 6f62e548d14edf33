import type { PaymentDeclineReason } from '@shop/contracts';
import type { Decider } from '@shop/event-store';
import { type PaymentCommand, type PaymentEvent, PaymentRefused } from './payment.events';

/**
 * One order's payment: requested → captured or declined; refunded on
 * compensation. Every saga command is delivered at least once and may come
 * out of order, so:
 * - a charge is requested once; the provider's answer is recorded once (it
 *   answers a repeated Idempotency-Key the same way);
 * - once a refund was asked for, no charge is made any more, and a capture
 *   that still lands afterwards is owed back (`refundOwed`) until refunded;
 * - nothing is refunded twice: a refund is recorded once per refund id, and
 *   never beyond what was captured.
 */
export type PaymentStatus = 'none' | 'requested' | 'captured' | 'declined';

export interface PaymentState {
  readonly status: PaymentStatus;
  readonly paymentId: string | null;
  /** What was asked for (and is sent again, unchanged, on every retry of the charge). */
  readonly amountCents: number;
  readonly currency: string;
  readonly chargeId: string | null;
  readonly capturedCents: number;
  readonly declineReason: PaymentDeclineReason | null;
  readonly refundRequested: boolean;
  readonly refundedCents: number;
  readonly refundIds: readonly string[];
  /** The last refund recorded: what a repeated RefundPayment is answered with. */
  readonly lastRefund: { readonly refundId: string | null; readonly amountCents: number } | null;
}

const initialState = (): PaymentState => ({
  status: 'none',
  paymentId: null,
  amountCents: 0,
  currency: '',
  chargeId: null,
  capturedCents: 0,
  declineReason: null,
  refundRequested: false,
  refundedCents: 0,
  refundIds: [],
  lastRefund: null,
});

/** Cents captured and not yet refunded although a refund was asked for (0 when nothing is owed). */
export function refundOwed(state: PaymentState): number {
  return state.refundRequested && state.status === 'captured' ? state.capturedCents - state.refundedCents : 0;
}

/**
 * What a ChargePayment leads to once the request is on record: call the
 * provider; answer again with the outcome already known; or nothing, because
 * a refund was asked for first (the compensation overtook its charge).
 */
export function chargeStep(state: PaymentState): 'call-provider' | 'answer' | 'refused' {
  if (state.refundRequested) return 'refused';
  return state.status === 'requested' ? 'call-provider' : 'answer';
}

function decide(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.kind) {
    case 'RequestCharge': {
      if (state.refundRequested || state.status !== 'none') return [];
      const { paymentId, amountCents, currency } = command;
      if (!Number.isInteger(amountCents) || amountCents <= 0) throw new PaymentRefused('INVALID_AMOUNT');
      return [{ type: 'PaymentRequested', data: { paymentId, amountCents, currency } }];
    }
    case 'RecordCharge': {
      if (state.status === 'none') throw new PaymentRefused('NOT_REQUESTED');
      if (state.status !== 'requested') return [];
      const { outcome } = command;
      return outcome.status === 'captured'
        ? [{ type: 'PaymentCaptured', data: { chargeId: outcome.chargeId, amountCents: outcome.amountCents } }]
        : [{ type: 'PaymentDeclined', data: { chargeId: outcome.chargeId, reason: outcome.reason } }];
    }
    case 'RequestRefund':
      return state.refundRequested ? [] : [{ type: 'RefundRequested', data: {} }];
    case 'RecordRefund': {
      if (!state.refundRequested) throw new PaymentRefused('NO_REFUND_REQUESTED');
      const owed = refundOwed(state);
      if (command.refundId === null) {
        // "Nothing to refund" is only true while no capture stands.
        if (owed > 0) throw new PaymentRefused('CAPTURE_STANDING');
        return state.lastRefund ? [] : [{ type: 'PaymentRefunded', data: { refundId: null, amountCents: 0 } }];
      }
      if (state.status !== 'captured') throw new PaymentRefused('NOTHING_CAPTURED');
      if (state.refundIds.includes(command.refundId)) return [];
      if (!Number.isInteger(command.amountCents) || command.amountCents <= 0 || command.amountCents > owed) {
        throw new PaymentRefused('REFUND_EXCEEDS_CAPTURE');
      }
      return [{ type: 'PaymentRefunded', data: { refundId: command.refundId, amountCents: command.amountCents } }];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function evolve(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentRequested':
      return { ...state, status: 'requested', ...event.data };
    case 'PaymentCaptured':
      return { ...state, status: 'captured', chargeId: event.data.chargeId, capturedCents: event.data.amountCents };
    case 'PaymentDeclined':
      return { ...state, status: 'declined', chargeId: event.data.chargeId, declineReason: event.data.reason };
    case 'RefundRequested':
      return { ...state, refundRequested: true };
    case 'PaymentRefunded': {
      const { refundId, amountCents } = event.data;
      return {
        ...state,
        refundedCents: state.refundedCents + amountCents,
        refundIds: refundId === null ? state.refundIds : [...state.refundIds, refundId],
        lastRefund: { refundId, amountCents },
      };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export const paymentDecider: Decider<PaymentState, PaymentCommand, PaymentEvent> = { decide, evolve, initialState };
