import { z } from 'zod';
import { contracts, CURRENT_MESSAGES } from './contracts';
import { createEnvelope, readEnvelope } from './envelope';
import { defineMessage, defineUpcaster } from './message';
import { ORDER_REASONS } from './reasons';
import { createRegistry } from './registry';
import { TOPICS } from './topics';

/** Every message of the place-order saga and the topic it travels on (docs/design.md, "Messaging"). */
const EXPECTED_TOPICS: Record<string, string> = {
  OrderPlaced: 'order.events',
  OrderConfirmed: 'order.events',
  OrderRejected: 'order.events',
  OrderCancelled: 'order.events',
  ReserveStock: 'inventory.commands',
  ReleaseStock: 'inventory.commands',
  CommitStock: 'inventory.commands',
  StockReserved: 'inventory.events',
  StockReservationFailed: 'inventory.events',
  StockReleased: 'inventory.events',
  StockCommitted: 'inventory.events',
  ProductAdded: 'inventory.events',
  ProductPriceChanged: 'inventory.events',
  StockLevelChanged: 'inventory.events',
  ChargePayment: 'payment.commands',
  RefundPayment: 'payment.commands',
  PaymentCaptured: 'payment.events',
  PaymentDeclined: 'payment.events',
  PaymentRefunded: 'payment.events',
};

const topic = TOPICS.orderEvents;
const v1 = defineMessage({
  type: 'Thing',
  version: 1,
  kind: 'event',
  topic,
  description: 'v1',
  schema: z.object({ id: z.string(), name: z.string() }),
  key: (payload) => payload.id,
});
const v2 = defineMessage({
  type: 'Thing',
  version: 2,
  kind: 'event',
  topic,
  description: 'v2: name split',
  schema: z.object({ id: z.string(), first: z.string(), last: z.string() }),
  key: (payload) => payload.id,
});
const v3 = defineMessage({
  type: 'Thing',
  version: 3,
  kind: 'event',
  topic,
  description: 'v3: last name optional',
  schema: z.object({ id: z.string(), first: z.string(), last: z.string().nullable() }),
  key: (payload) => payload.id,
});
const up1 = defineUpcaster(v1, v2, ({ id, name }) => {
  const [first = '', last = ''] = name.split(' ');
  return { id, first, last };
});
const up2 = defineUpcaster(v2, v3, ({ id, first, last }) => ({ id, first, last: last || null }));

describe('message registry', () => {
  it('holds every saga message, current version, on its topic', () => {
    const registered = Object.fromEntries(
      CURRENT_MESSAGES.map((definition) => [definition.type, definition.topic.name]),
    );
    expect(registered).toEqual(EXPECTED_TOPICS);
    for (const definition of CURRENT_MESSAGES) {
      expect(contracts.current(definition.type)).toBe(definition);
      expect(contracts.definition(definition.type, definition.version)).toBe(definition);
      expect(Object.values(TOPICS)).toContain(definition.topic);
    }
  });

  it('keeps superseded versions readable: ReserveStock v1 is registered, v2 is current', () => {
    expect(contracts.definition('ReserveStock', 1)?.version).toBe(1);
    expect(contracts.current('ReserveStock')?.version).toBe(2);
    expect(contracts.definition('ReserveStock', 3)).toBeUndefined();
    expect(contracts.current('Nope')).toBeUndefined();
  });

  it('uses the reasons of docs/contract.md and nothing else', () => {
    expect([...ORDER_REASONS].sort()).toEqual(
      [
        'OUT_OF_STOCK',
        'PAYMENT_DECLINED',
        'INSUFFICIENT_FUNDS',
        'TIMEOUT',
        'CANCELLED_BY_CUSTOMER',
        'UNKNOWN_PRODUCT',
      ].sort(),
    );
    const reasons = (type: string, version = 1) => {
      const schema = contracts.definition(type, version)?.schema;
      return schema ? z.toJSONSchema(schema) : undefined;
    };
    expect(reasons('StockReservationFailed')).toMatchObject({
      properties: { reason: { enum: ['OUT_OF_STOCK', 'UNKNOWN_PRODUCT'] } },
    });
    expect(reasons('PaymentDeclined')).toMatchObject({
      properties: { reason: { enum: ['PAYMENT_DECLINED', 'INSUFFICIENT_FUNDS'] } },
    });
    expect(reasons('OrderRejected')).toMatchObject({
      properties: {
        reason: { enum: ['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'INSUFFICIENT_FUNDS', 'TIMEOUT', 'UNKNOWN_PRODUCT'] },
      },
    });
  });

  it('upcasts across several versions, one step at a time', () => {
    const registry = createRegistry({ current: [v3], superseded: [v1, v2], upcasters: [up1, up2] });
    expect(registry.upcast('Thing', 1, { id: 'x', name: 'Ada' })).toEqual({ id: 'x', first: 'Ada', last: null });

    const message = createEnvelope(v1, { id: 'x', name: 'Ada Lovelace' }, { correlationId: 'c', causationId: 'c' });
    const received = readEnvelope(message, registry);
    expect(received).toMatchObject({
      type: 'Thing',
      version: 3,
      upcastedFrom: 1,
      payload: { id: 'x', first: 'Ada', last: 'Lovelace' },
    });
  });

  it('refuses to be built with a gap, a duplicate or a second current version', () => {
    expect(() => createRegistry({ current: [v3], superseded: [v1, v2], upcasters: [up1] })).toThrow(
      'Thing@v2 has no upcaster to v3',
    );
    expect(() => createRegistry({ current: [v3], superseded: [v1], upcasters: [up1, up2] })).toThrow(
      /joins a version that is not registered/,
    );
    expect(() => createRegistry({ current: [v2], superseded: [v1, v1], upcasters: [up1] })).toThrow(
      'Thing@v1 is registered twice',
    );
    expect(() => createRegistry({ current: [v2, v3], upcasters: [up2] })).toThrow('Thing has two current versions');
    expect(() => createRegistry({ current: [v1], superseded: [v2], upcasters: [up1] })).toThrow(
      /superseded by an older version/,
    );
    expect(() => createRegistry({ current: [v3], superseded: [v1, v2], upcasters: [up1, up2] })).not.toThrow();
  });

  it('only joins adjacent versions of one type with an upcaster', () => {
    expect(() => defineUpcaster(v1, v3, () => ({ id: '', first: '', last: null }))).toThrow(/version n to n\+1/);
    expect(() => defineMessage({ ...v1, version: 0 })).toThrow(/positive integer/);
  });
});
