import { canonicalJson, requestHash } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('keeps the order of array items', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('writes the same number once, however it was spelled', () => {
    expect(canonicalJson(JSON.parse('{"amountCents": 1.0e3}'))).toBe('{"amountCents":1000}');
  });

  it('escapes keys and strings as JSON does', () => {
    expect(canonicalJson({ 'a"b': 'line\nbreak' })).toBe('{"a\\"b":"line\\nbreak"}');
  });

  it('refuses what is not a JSON value', () => {
    expect(() => canonicalJson(() => 1)).toThrow(TypeError);
  });
});

describe('requestHash', () => {
  const body = { reference: 'order-1', amountCents: 1250, currency: 'EUR', token: 'tok_visa' };

  it('is the same for the same JSON value with its keys in another order', () => {
    expect(requestHash({ token: 'tok_visa', currency: 'EUR', amountCents: 1250, reference: 'order-1' })).toBe(
      requestHash(body),
    );
  });

  it('differs when any value differs', () => {
    expect(requestHash({ ...body, amountCents: 1251 })).not.toBe(requestHash(body));
    expect(requestHash({ ...body, reference: 'order-2' })).not.toBe(requestHash(body));
  });

  it('is a SHA-256 in hex', () => {
    expect(requestHash(body)).toMatch(/^[0-9a-f]{64}$/);
  });
});
