import { causedBy, createEnvelope, InvalidMessageError, readEnvelope } from './envelope';
import { ReserveStock, ReserveStockV1, reserveStockV1ToV2 } from './inventory.commands';

const orderId = '0b7f4a52-4a0e-4f57-9a51-6c1f3f2b9d10';
const meta = causedBy({ id: 'cause', correlationId: 'corr' });

describe('ReserveStock v1 → v2 (upcaster)', () => {
  it('turns v1 lines into v2 items', () => {
    expect(reserveStockV1ToV2.up({ orderId, lines: [{ sku: 'A', quantity: 3 }] })).toEqual({
      orderId,
      items: [{ sku: 'A', quantity: 3 }],
    });
    expect(reserveStockV1ToV2).toMatchObject({ type: 'ReserveStock', fromVersion: 1, toVersion: 2 });
  });

  it('reads a v1 message still on the topic as the current version', () => {
    const v1 = createEnvelope(
      ReserveStockV1,
      {
        orderId,
        lines: [
          { sku: 'A', quantity: 3 },
          { sku: 'B', quantity: 1 },
        ],
      },
      meta,
    );
    const received = readEnvelope({ key: v1.key, value: Buffer.from(v1.value) });

    expect(received).toMatchObject({
      type: 'ReserveStock',
      version: ReserveStock.version,
      upcastedFrom: 1,
      payload: {
        orderId,
        items: [
          { sku: 'A', quantity: 3 },
          { sku: 'B', quantity: 1 },
        ],
      },
    });
    expect(received.payload).not.toHaveProperty('lines');
  });

  it('reads a v2 message unchanged, with no upcastedFrom', () => {
    const v2 = createEnvelope(ReserveStock, { orderId, items: [{ sku: 'A', quantity: 3 }] }, meta);
    const received = readEnvelope({ value: v2.value });
    expect(received.version).toBe(2);
    expect(received.upcastedFrom).toBeUndefined();
  });

  it('validates a v1 payload against the v1 schema before upcasting', () => {
    const v1 = JSON.parse(
      createEnvelope(ReserveStockV1, { orderId, lines: [{ sku: 'A', quantity: 3 }] }, meta).value,
    ) as {
      payload: Record<string, unknown>;
    };
    // A v2-shaped payload labelled v1 is not a valid v1 message.
    const mislabelled = { ...v1, payload: { orderId, items: [{ sku: 'A', quantity: 3 }] } };
    expect(() => readEnvelope({ value: JSON.stringify(mislabelled) })).toThrow(InvalidMessageError);
    expect(() => readEnvelope({ value: JSON.stringify(mislabelled) })).toThrow(
      /invalid-payload: ReserveStock v1: lines/,
    );
  });

  it('still rejects after upcasting what v2 forbids (a SKU twice)', () => {
    const v1 = createEnvelope(
      ReserveStockV1,
      {
        orderId,
        lines: [
          { sku: 'A', quantity: 1 },
          { sku: 'A', quantity: 2 },
        ],
      },
      meta,
    );
    expect(() => readEnvelope({ value: v1.value })).toThrow(/invalid-payload: ReserveStock v1 upcast to v2/);
  });
});
