import { authorize, CARD_TOKENS } from './card-tokens';

describe('authorize', () => {
  it('captures tok_visa', () => {
    expect(authorize('tok_visa', { draw: 0 })).toEqual({ status: 'captured' });
  });

  it('declines tok_chargeDeclined with card_declined', () => {
    expect(authorize('tok_chargeDeclined', { draw: 0.99 })).toEqual({
      status: 'declined',
      declineCode: 'card_declined',
    });
  });

  it('declines tok_chargeDeclinedInsufficientFunds with insufficient_funds', () => {
    expect(authorize('tok_chargeDeclinedInsufficientFunds', { draw: 0.99 })).toEqual({
      status: 'declined',
      declineCode: 'insufficient_funds',
    });
  });

  it('declines the share of approved charges given by declineRate with card_declined', () => {
    const outcomes = [0.1, 0.29, 0.3, 0.9].map((draw) => authorize('tok_visa', { declineRate: 0.3, draw }).status);
    expect(outcomes).toEqual(['declined', 'declined', 'captured', 'captured']);
    expect(authorize('tok_visa', { declineRate: 0.3, draw: 0.1 })).toEqual({
      status: 'declined',
      declineCode: 'card_declined',
    });
  });

  it('never declines an approved charge at declineRate 0, always at declineRate 1', () => {
    expect(authorize('tok_visa', { declineRate: 0, draw: 0 }).status).toBe('captured');
    expect(authorize('tok_visa', { declineRate: 1, draw: 0.999_999 }).status).toBe('declined');
  });

  it('keeps the decline code of a token that is declined anyway', () => {
    expect(authorize('tok_chargeDeclinedInsufficientFunds', { declineRate: 1, draw: 0 })).toEqual({
      status: 'declined',
      declineCode: 'insufficient_funds',
    });
  });

  it('knows exactly the three test tokens of the contract', () => {
    expect([...CARD_TOKENS].sort()).toEqual(['tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds', 'tok_visa']);
  });
});
