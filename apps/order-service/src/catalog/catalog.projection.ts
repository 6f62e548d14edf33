import type pg from 'pg';

export interface CatalogProduct {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly currency: string;
}

/**
 * order-service's copy of a product, from ProductAdded and ProductPriceChanged:
 * what an order is priced with. Stock levels are inventory's (StockLevelChanged
 * is not followed here).
 */
export async function upsertCatalog(client: pg.PoolClient, product: CatalogProduct): Promise<void> {
  await client.query(
    `insert into catalog (sku, name, price_cents, currency) values ($1, $2, $3, $4)
     on conflict (sku) do update
       set name = excluded.name, price_cents = excluded.price_cents, currency = excluded.currency, updated_at = now()`,
    [product.sku, product.name, product.priceCents, product.currency],
  );
}
