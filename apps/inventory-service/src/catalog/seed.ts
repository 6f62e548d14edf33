import { ProductAdded, StockLevelChanged } from '@shop/contracts';
import { outboxMessage } from '@shop/messaging';
import type { StockStore } from '../stock/stock.store';
import { CURRENCY, SEED_PRODUCTS } from './seed-products';

/**
 * Adds the seed catalog through events on first start: a product that
 * already exists is left as it is, so a restart (or two instances starting
 * together) changes nothing. Each new product is announced on inventory.events
 * for order-service's catalog projection.
 */
export async function seedCatalog(stock: StockStore, stackId: string): Promise<number> {
  let added = 0;
  for (const product of SEED_PRODUCTS) {
    const { state } = await stock.load(product.sku, undefined, []);
    if (state.exists) continue;
    const meta = { correlationId: `seed-${product.sku}`, causationId: `seed-${product.sku}` };
    const outcome = await stock.execute(
      [
        {
          sku: product.sku,
          command: {
            kind: 'AddProduct',
            sku: product.sku,
            name: product.name,
            priceCents: product.priceCents,
            currency: CURRENCY,
          },
        },
        { sku: product.sku, command: { kind: 'ReceiveStock', quantity: product.stock } },
      ],
      {
        outbox: (result, products) => {
          const row = products.get(product.sku);
          if (!result.ok || !row) return [];
          return [
            outboxMessage(stackId, ProductAdded, row, meta),
            outboxMessage(stackId, StockLevelChanged, row, meta),
          ];
        },
      },
    );
    // A refusal (ALREADY_EXISTS) means another instance added it first.
    if (outcome !== 'duplicate' && outcome.ok) added += 1;
  }
  return added;
}
