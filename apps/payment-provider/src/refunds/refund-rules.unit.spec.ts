import { decideRefund, type RefundableCharge } from './refund-rules';

const captured: RefundableCharge = { status: 'captured', amountCents: 100, refundedCents: 0 };

describe('decideRefund', () => {
  it('refunds part of a captured charge', () => {
    expect(decideRefund(captured, 30)).toEqual({ kind: 'refund', refundedCentsAfter: 30 });
  });

  it('refunds up to exactly what was captured, over several refunds', () => {
    expect(decideRefund({ ...captured, refundedCents: 70 }, 30)).toEqual({ kind: 'refund', refundedCentsAfter: 100 });
  });

  it('refuses a refund beyond what is left of the captured amount', () => {
    expect(decideRefund({ ...captured, refundedCents: 90 }, 30)).toEqual({
      kind: 'exceeds-captured',
      refundableCents: 10,
    });
    expect(decideRefund(captured, 101)).toEqual({ kind: 'exceeds-captured', refundableCents: 100 });
  });

  it('refuses to refund a declined charge', () => {
    expect(decideRefund({ status: 'declined', amountCents: 100, refundedCents: 0 }, 1)).toEqual({
      kind: 'charge-declined',
    });
  });

  it('knows no refund for a charge that does not exist', () => {
    expect(decideRefund(undefined, 1)).toEqual({ kind: 'unknown-charge' });
  });
});
