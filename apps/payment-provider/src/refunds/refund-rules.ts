/** What the refund rules need to know of a charge, read under its row lock. */
export interface RefundableCharge {
  readonly status: 'captured' | 'declined';
  readonly amountCents: number;
  readonly refundedCents: number;
}

export type RefundDecision =
  | { readonly kind: 'refund'; readonly refundedCentsAfter: number }
  | { readonly kind: 'unknown-charge' }
  | { readonly kind: 'charge-declined' }
  | { readonly kind: 'exceeds-captured'; readonly refundableCents: number };

/**
 * A refund is allowed on a captured charge while the sum of all its refunds
 * stays within the captured amount. The caller holds the charge row locked,
 * so concurrent refunds are decided one after the other.
 */
export function decideRefund(charge: RefundableCharge | undefined, amountCents: number): RefundDecision {
  if (!charge) return { kind: 'unknown-charge' };
  if (charge.status === 'declined') return { kind: 'charge-declined' };
  const refundableCents = charge.amountCents - charge.refundedCents;
  if (amountCents > refundableCents) return { kind: 'exceeds-captured', refundableCents };
  return { kind: 'refund', refundedCentsAfter: charge.refundedCents + amountCents };
}
