import type { StackTarget } from './target';

/**
 * Preparation, as an operator would do it: every SKU below `to` units gets a
 * stock delivery (`POST /admin/stock` on inventory-service) that tops it up
 * to `to`. Returns how many SKUs it restocked. The experiments restock a
 * little before each run (so a sold-out stack still shows the faults, not an
 * empty shelf); the whole-stack benchmark restocks a lot (so no order is
 * refused for want of stock): `npm run chaos -- restock --to <units>`.
 */
export async function restock(target: Pick<StackTarget, 'url' | 'adminToken'>, to: number): Promise<number> {
  const response = await fetch(`${target.url('gateway')}/api/v1/products`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`GET /products answered ${response.status}`);
  const { items } = (await response.json()) as { items: Array<{ sku: string; available: number }> };
  let restocked = 0;
  for (const { sku, available } of items) {
    if (available >= to) continue;
    const delivery = await fetch(`${target.url('inventory-service')}/admin/stock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sku, quantity: to - available }),
      signal: AbortSignal.timeout(10_000),
    });
    if (delivery.status >= 300) throw new Error(`restocking ${sku}: ${delivery.status} ${await delivery.text()}`);
    restocked++;
  }
  return restocked;
}
