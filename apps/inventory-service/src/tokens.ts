/** Injection tokens of inventory-service's own providers. */
export const INVENTORY_POOL = Symbol('INVENTORY_POOL');
export const ADMIN = Symbol('ADMIN');

export interface AdminSettings {
  /** Bearer token of POST /admin/stock; the route refuses everyone when unset. */
  readonly token: string | undefined;
  readonly stackId: string;
}
