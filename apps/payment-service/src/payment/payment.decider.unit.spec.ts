import { chargeStep, paymentDecider, refundOwed } from './payment.decider';
import type { ChargeOutcome, PaymentCommand, PaymentEvent } from './payment.events';

/** given(events) / when(command) / then(events or refusal), over plain values. */
function given(...events: PaymentEvent[]) {
  const state = events.reduce(paymentDecider.evolve, paymentDecider.initialState());
  return {
    when: (command: PaymentCommand) => ({
      then: (expected: PaymentEvent[]) => expect(paymentDecider.decide(command, state)).toEqual(expected),
      refusedWith: (reason: string) => expect(() => paymentDecider.decide(command, state)).toThrow(reason),
    }),
    state,
  };
}

const requestCharge: PaymentCommand = { kind: 'RequestCharge', paymentId: 'pay-1', amountCents: 1250, currency: 'EUR' };
const requested: PaymentEvent = {
  type: 'PaymentRequested',
  data: { paymentId: 'pay-1', amountCents: 1250, currency: 'EUR' },
};
const captured: PaymentEvent = { type: 'PaymentCaptured', data: { chargeId: 'ch_1', amountCents: 1250 } };
const declined: PaymentEvent = { type: 'PaymentDeclined', data: { chargeId: 'ch_1', reason: 'INSUFFICIENT_FUNDS' } };
const refundRequested: PaymentEvent = { type: 'RefundRequested', data: {} };
const refunded = (refundId: string | null, amountCents: number): PaymentEvent => ({
  type: 'PaymentRefunded',
  data: { refundId, amountCents },
});
const recordCharge = (outcome: ChargeOutcome): PaymentCommand => ({ kind: 'RecordCharge', outcome });
const recordRefund = (refundId: string | null, amountCents: number): PaymentCommand => ({
  kind: 'RecordRefund',
  refundId,
  amountCents,
});

describe('payment decider', () => {
  describe('charging', () => {
    it('requests a charge once, however often ChargePayment is delivered', () => {
      given().when(requestCharge).then([requested]);
      given(requested).when(requestCharge).then([]);
      given(requested, captured).when(requestCharge).then([]);
    });

    it('refuses a charge of nothing', () => {
      given()
        .when({ ...requestCharge, amountCents: 0 } as PaymentCommand)
        .refusedWith('INVALID_AMOUNT');
    });

    it("records the provider's capture, once", () => {
      given(requested)
        .when(recordCharge({ status: 'captured', chargeId: 'ch_1', amountCents: 1250 }))
        .then([captured]);
      given(requested, captured)
        .when(recordCharge({ status: 'captured', chargeId: 'ch_1', amountCents: 1250 }))
        .then([]);
      expect(given(requested, captured).state).toMatchObject({
        status: 'captured',
        chargeId: 'ch_1',
        capturedCents: 1250,
      });
    });

    it("records the provider's decline with its reason", () => {
      given(requested)
        .when(recordCharge({ status: 'declined', chargeId: 'ch_1', reason: 'INSUFFICIENT_FUNDS' }))
        .then([declined]);
      expect(given(requested, declined).state).toMatchObject({
        status: 'declined',
        declineReason: 'INSUFFICIENT_FUNDS',
      });
    });

    it('records no outcome for a charge it never requested', () => {
      given()
        .when(recordCharge({ status: 'captured', chargeId: 'ch_1', amountCents: 1250 }))
        .refusedWith('NOT_REQUESTED');
    });

    it('calls the provider for a requested charge and answers again once the outcome is known', () => {
      expect(chargeStep(given(requested).state)).toBe('call-provider');
      expect(chargeStep(given(requested, captured).state)).toBe('answer');
      expect(chargeStep(given(requested, declined).state)).toBe('answer');
    });
  });

  describe('refunding', () => {
    it('records the request, then the refund of what was captured', () => {
      given(requested, captured).when({ kind: 'RequestRefund' }).then([refundRequested]);
      const asked = given(requested, captured, refundRequested);
      expect(refundOwed(asked.state)).toBe(1250);
      asked.when(recordRefund('re_1', 1250)).then([refunded('re_1', 1250)]);
      expect(refundOwed(given(requested, captured, refundRequested, refunded('re_1', 1250)).state)).toBe(0);
    });

    it('never refunds twice: a repeated refund id adds nothing, another refund beyond the capture is refused', () => {
      const done = given(requested, captured, refundRequested, refunded('re_1', 1250));
      done.when({ kind: 'RequestRefund' }).then([]);
      done.when(recordRefund('re_1', 1250)).then([]);
      done.when(recordRefund('re_2', 1250)).refusedWith('REFUND_EXCEEDS_CAPTURE');
      done.when(recordRefund(null, 0)).then([]);
      expect(done.state.lastRefund).toEqual({ refundId: 're_1', amountCents: 1250 });
    });

    it('refunds nothing (amount 0, no refund id) when nothing was captured, once', () => {
      given(requested, declined, refundRequested)
        .when(recordRefund(null, 0))
        .then([refunded(null, 0)]);
      given(refundRequested)
        .when(recordRefund(null, 0))
        .then([refunded(null, 0)]);
      given(refundRequested, refunded(null, 0)).when(recordRefund(null, 0)).then([]);
      given(requested, declined, refundRequested).when(recordRefund('re_1', 1250)).refusedWith('NOTHING_CAPTURED');
    });

    it('never claims "nothing to refund" while a capture stands', () => {
      given(requested, captured, refundRequested).when(recordRefund(null, 0)).refusedWith('CAPTURE_STANDING');
    });

    it('records a refund only after one was asked for', () => {
      given(requested, captured).when(recordRefund('re_1', 1250)).refusedWith('NO_REFUND_REQUESTED');
    });
  });

  describe('a refund that overtakes its charge', () => {
    it('makes a later ChargePayment a no-op: nothing is requested, nothing charged', () => {
      const early = given(refundRequested, refunded(null, 0));
      early.when(requestCharge).then([]);
      expect(chargeStep(early.state)).toBe('refused');
      expect(early.state.status).toBe('none');
    });

    it('refuses to charge a requested payment once the refund was asked for', () => {
      expect(chargeStep(given(requested, refundRequested).state)).toBe('refused');
    });

    it('owes back a capture that still lands after the refund (net zero)', () => {
      const late = given(requested, refundRequested, refunded(null, 0));
      late.when(recordCharge({ status: 'captured', chargeId: 'ch_1', amountCents: 1250 })).then([captured]);
      const afterCapture = given(requested, refundRequested, refunded(null, 0), captured);
      expect(refundOwed(afterCapture.state)).toBe(1250);
      afterCapture.when(recordRefund('re_1', 1250)).then([refunded('re_1', 1250)]);
      const settled = given(requested, refundRequested, refunded(null, 0), captured, refunded('re_1', 1250));
      expect(refundOwed(settled.state)).toBe(0);
      expect(settled.state.refundedCents).toBe(settled.state.capturedCents);
    });
  });
});
