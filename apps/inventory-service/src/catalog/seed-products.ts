/**
 * The catalog a fresh inventory starts with, added through events on first
 * start (idempotent: a product that exists is left alone). Some SKUs have
 * 5-10 units, so overselling can be tried with a handful of orders.
 */
export interface SeedProduct {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly stock: number;
}

export const CURRENCY = 'EUR';

export const SEED_PRODUCTS: readonly SeedProduct[] = [
  { sku: 'MUG-001', name: 'Enamel camping mug', priceCents: 1200, stock: 120 },
  { sku: 'MUG-002', name: 'Stoneware coffee mug', priceCents: 1500, stock: 80 },
  { sku: 'TEE-001', name: 'Organic cotton T-shirt', priceCents: 2500, stock: 200 },
  { sku: 'TEE-002', name: 'Merino T-shirt', priceCents: 6900, stock: 40 },
  { sku: 'HOOD-001', name: 'Heavyweight hoodie', priceCents: 7900, stock: 60 },
  { sku: 'CAP-001', name: 'Six-panel cap', priceCents: 2200, stock: 150 },
  { sku: 'SOCK-001', name: 'Wool hiking socks', priceCents: 1800, stock: 300 },
  { sku: 'BAG-001', name: 'Canvas tote bag', priceCents: 1900, stock: 100 },
  { sku: 'BAG-002', name: 'Roll-top backpack', priceCents: 11900, stock: 25 },
  { sku: 'BOTTLE-001', name: 'Insulated bottle 750 ml', priceCents: 3400, stock: 90 },
  { sku: 'NOTE-001', name: 'Dot-grid notebook', priceCents: 1400, stock: 250 },
  { sku: 'PEN-001', name: 'Brass ballpoint pen', priceCents: 4500, stock: 50 },
  { sku: 'LAMP-001', name: 'Desk lamp', priceCents: 8900, stock: 30 },
  { sku: 'CHAIR-001', name: 'Folding camp chair', priceCents: 5900, stock: 35 },
  { sku: 'TENT-001', name: 'Two-person tent', priceCents: 24900, stock: 12 },
  { sku: 'KNIFE-001', name: 'Pocket knife', priceCents: 3900, stock: 45 },
  { sku: 'STICKER-001', name: 'Sticker pack', priceCents: 500, stock: 1000 },
  { sku: 'POSTER-001', name: 'Limited screen print', priceCents: 4900, stock: 5 },
  { sku: 'WATCH-001', name: 'Field watch', priceCents: 19900, stock: 8 },
  { sku: 'JACKET-001', name: 'Rain shell jacket', priceCents: 15900, stock: 10 },
  { sku: 'VINYL-001', name: 'Signed vinyl record', priceCents: 3900, stock: 7 },
  { sku: 'BOARD-001', name: 'Skateboard deck', priceCents: 8500, stock: 6 },
];
