/** Injection tokens of order-service's own providers. */
export const ORDER_POOL = Symbol('ORDER_POOL');
