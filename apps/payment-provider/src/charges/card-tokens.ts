/**
 * The processor's test tokens (docs/contract.md): what a card would answer.
 * Any other token is refused by the request schema before it gets here.
 */
export const CARD_TOKENS = ['tok_visa', 'tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds'] as const;

export type CardToken = (typeof CARD_TOKENS)[number];

export type DeclineCode = 'card_declined' | 'insufficient_funds';

export type Authorization =
  { readonly status: 'captured' } | { readonly status: 'declined'; readonly declineCode: DeclineCode };

export interface AuthorizationFaults {
  /** Share (0..1) of otherwise approved charges that are declined with `card_declined`. */
  readonly declineRate?: number | undefined;
  /** A uniform draw in [0, 1), taken by the caller (the rules stay pure). */
  readonly draw: number;
}

export function authorize(token: CardToken, faults: AuthorizationFaults): Authorization {
  switch (token) {
    case 'tok_visa':
      return faults.declineRate !== undefined && faults.draw < faults.declineRate
        ? { status: 'declined', declineCode: 'card_declined' }
        : { status: 'captured' };
    case 'tok_chargeDeclined':
      return { status: 'declined', declineCode: 'card_declined' };
    case 'tok_chargeDeclinedInsufficientFunds':
      return { status: 'declined', declineCode: 'insufficient_funds' };
    default: {
      const unknown: never = token;
      throw new Error(`unknown card token ${String(unknown)}`);
    }
  }
}
