import type { Decider } from '@shop/event-store';
import { type StockCommand, type StockEvent, StockRefused } from './stock.events';

/**
 * One SKU's stock. `available` is what can still be reserved; a reservation
 * holds units for an order until it is committed (order confirmed) or
 * released (order rejected); committed units come back when a confirmed order
 * is cancelled. Available stock never goes below zero: a reservation that
 * does not fit is refused. Every command is idempotent per order, because
 * saga commands are delivered at least once.
 */
export interface StockState {
  readonly exists: boolean;
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly available: number;
  /** Units held per order, not yet committed or released. */
  readonly reserved: Readonly<Record<string, number>>;
  /**
   * Units sold per order (committed), returned if the order is cancelled.
   * The store fills it for the orders a decision is about (from the
   * reservations table), not from the whole history: it would grow with
   * every order the SKU ever sold.
   */
  readonly committed: Readonly<Record<string, number>>;
}

const initialState = (): StockState => ({
  exists: false,
  sku: '',
  name: '',
  priceCents: 0,
  currency: '',
  available: 0,
  reserved: {},
  committed: {},
});

function without(record: Readonly<Record<string, number>>, key: string): Record<string, number> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

function decide(command: StockCommand, state: StockState): StockEvent[] {
  if (command.kind === 'AddProduct') {
    if (state.exists) throw new StockRefused('ALREADY_EXISTS');
    const { sku, name, priceCents, currency } = command;
    return [{ type: 'ProductAdded', data: { sku, name, priceCents, currency } }];
  }
  if (!state.exists) throw new StockRefused('UNKNOWN_PRODUCT');
  switch (command.kind) {
    case 'ReceiveStock':
      if (!Number.isInteger(command.quantity) || command.quantity <= 0) throw new StockRefused('INVALID_QUANTITY');
      return [{ type: 'StockReceived', data: { quantity: command.quantity } }];
    case 'Reserve':
      if (state.reserved[command.orderId] !== undefined || state.committed[command.orderId] !== undefined) return [];
      if (!Number.isInteger(command.quantity) || command.quantity <= 0) throw new StockRefused('INVALID_QUANTITY');
      if (command.quantity > state.available) throw new StockRefused('OUT_OF_STOCK');
      return [{ type: 'StockReserved', data: { orderId: command.orderId, quantity: command.quantity } }];
    case 'Release': {
      const quantity = state.reserved[command.orderId];
      return quantity === undefined
        ? []
        : [{ type: 'ReservationReleased', data: { orderId: command.orderId, quantity } }];
    }
    case 'Commit': {
      const quantity = state.reserved[command.orderId];
      return quantity === undefined
        ? []
        : [{ type: 'ReservationCommitted', data: { orderId: command.orderId, quantity } }];
    }
    case 'Return': {
      const quantity = state.committed[command.orderId];
      return quantity === undefined ? [] : [{ type: 'StockReturned', data: { orderId: command.orderId, quantity } }];
    }
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function evolve(state: StockState, event: StockEvent): StockState {
  switch (event.type) {
    case 'ProductAdded':
      return { ...state, exists: true, ...event.data };
    case 'StockReceived':
      return { ...state, available: state.available + event.data.quantity };
    case 'StockReserved':
      return {
        ...state,
        available: state.available - event.data.quantity,
        reserved: { ...state.reserved, [event.data.orderId]: event.data.quantity },
      };
    case 'ReservationReleased':
      return {
        ...state,
        available: state.available + event.data.quantity,
        reserved: without(state.reserved, event.data.orderId),
      };
    case 'ReservationCommitted':
      return {
        ...state,
        reserved: without(state.reserved, event.data.orderId),
        committed: { ...state.committed, [event.data.orderId]: event.data.quantity },
      };
    case 'StockReturned':
      return {
        ...state,
        available: state.available + event.data.quantity,
        committed: without(state.committed, event.data.orderId),
      };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export const stockDecider: Decider<StockState, StockCommand, StockEvent> = { decide, evolve, initialState };
