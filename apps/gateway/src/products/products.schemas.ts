import { z } from 'zod';
import { Cents, Currency, Sku } from '../http/fields';

/** A SKU in a path: any catalog SKU, but never a dot segment that would change the upstream path. */
export const SkuParam = Sku.refine((sku) => sku !== '.' && sku !== '..');

export const Product = z.object({
  sku: Sku,
  name: z.string(),
  priceCents: Cents.describe('Unit price.'),
  currency: Currency,
  available: z.int().min(0).describe('Units in stock and not reserved.'),
});

export const ProductList = z.object({ items: z.array(Product) });
