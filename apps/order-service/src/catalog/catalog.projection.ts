import type pg from 'pg';

export interface CatalogProduct {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly available: number;
}

/** order-service's copy of a product, from ProductAdded / ProductPriceChanged / StockLevelChanged. */
export async function upsertCatalog(client: pg.PoolClient, product: CatalogProduct): Promise<void> {
  await client.query(
    `insert into catalog (sku, name, price_cents, currency, available) values ($1, $2, $3, $4, $5)
     on conflict (sku) do update
       set name = excluded.name, price_cents = excluded.price_cents, currency = excluded.currency,
           available = excluded.available, updated_at = now()`,
    [product.sku, product.name, product.priceCents, product.currency, product.available],
  );
}
