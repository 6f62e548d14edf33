import { z } from 'zod';

/**
 * The words of docs/contract.md, spelled exactly as clients see them. Messages
 * carry these values unchanged, so the gateway never has to translate one.
 */
export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'] as const;
export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Why an order ended REJECTED or CANCELLED. */
export const ORDER_REASONS = [
  'OUT_OF_STOCK',
  'PAYMENT_DECLINED',
  'INSUFFICIENT_FUNDS',
  'TIMEOUT',
  'CANCELLED_BY_CUSTOMER',
  'UNKNOWN_PRODUCT',
] as const;
export const OrderReason = z.enum(ORDER_REASONS);
export type OrderReason = z.infer<typeof OrderReason>;

/** The reasons a saga can reject an order with (cancellation is the customer's, not the saga's). */
export const RejectionReason = OrderReason.exclude(['CANCELLED_BY_CUSTOMER']);
export type RejectionReason = z.infer<typeof RejectionReason>;

export const CancellationReason = OrderReason.extract(['CANCELLED_BY_CUSTOMER']);
export type CancellationReason = z.infer<typeof CancellationReason>;

/** Why inventory could not reserve all lines of an order. */
export const StockReservationFailureReason = OrderReason.extract(['OUT_OF_STOCK', 'UNKNOWN_PRODUCT']);
export type StockReservationFailureReason = z.infer<typeof StockReservationFailureReason>;

/** Why the card processor declined a charge (its test tokens map onto these). */
export const PaymentDeclineReason = OrderReason.extract(['PAYMENT_DECLINED', 'INSUFFICIENT_FUNDS']);
export type PaymentDeclineReason = z.infer<typeof PaymentDeclineReason>;
