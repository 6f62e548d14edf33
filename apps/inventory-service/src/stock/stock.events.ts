/**
 * Domain events of one SKU's stock: private to inventory-service (what other
 * services see are the integration events of @shop/contracts).
 */
export type StockEvent =
  | { type: 'ProductAdded'; data: { sku: string; name: string; priceCents: number; currency: string } }
  | { type: 'StockReceived'; data: { quantity: number } }
  | { type: 'StockReserved'; data: { orderId: string; quantity: number } }
  | { type: 'ReservationReleased'; data: { orderId: string; quantity: number } }
  | { type: 'ReservationCommitted'; data: { orderId: string; quantity: number } }
  | { type: 'StockReturned'; data: { orderId: string; quantity: number } };

export type StockCommand =
  | { kind: 'AddProduct'; sku: string; name: string; priceCents: number; currency: string }
  | { kind: 'ReceiveStock'; quantity: number }
  | { kind: 'Reserve'; orderId: string; quantity: number }
  | { kind: 'Release'; orderId: string }
  | { kind: 'Commit'; orderId: string }
  | { kind: 'Return'; orderId: string };

/** Why a command was refused: a value, not an exception (style: errors are values at the domain edge). */
export type StockRefusal = 'UNKNOWN_PRODUCT' | 'OUT_OF_STOCK' | 'ALREADY_EXISTS' | 'INVALID_QUANTITY';

export class StockRefused extends Error {
  constructor(readonly reason: StockRefusal) {
    super(reason);
    this.name = 'StockRefused';
  }
}
