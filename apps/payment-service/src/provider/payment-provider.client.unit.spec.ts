import { declineReason } from './payment-provider.client';

describe("the provider's decline codes", () => {
  it('map onto the reasons of docs/contract.md', () => {
    expect(declineReason('card_declined')).toBe('PAYMENT_DECLINED');
    expect(declineReason('insufficient_funds')).toBe('INSUFFICIENT_FUNDS');
  });

  it('make any code we do not know (or none) a plain decline', () => {
    expect(declineReason('expired_card')).toBe('PAYMENT_DECLINED');
    expect(declineReason(undefined)).toBe('PAYMENT_DECLINED');
  });
});
