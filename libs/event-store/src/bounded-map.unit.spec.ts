import { BoundedMap } from './bounded-map';

describe('BoundedMap', () => {
  it('drops the entry set longest ago beyond its capacity; setting a key again makes it the newest', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.get('a');
    map.set('c', 3);
    expect([map.has('a'), map.get('b'), map.get('c'), map.size]).toEqual([false, 2, 3, 2]);
    map.set('b', 20);
    map.set('d', 4);
    expect([map.has('c'), map.get('b'), map.get('d')]).toEqual([false, 20, 4]);
  });

  it('with refreshOnGet, drops the least recently used instead', () => {
    const map = new BoundedMap<string, number>(2, { refreshOnGet: true });
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect([map.get('a'), map.has('b'), map.get('c')]).toEqual([1, false, 3]);
  });

  it('keeps nothing at capacity 0, and forgets a deleted key', () => {
    const none = new BoundedMap<string, number>(0);
    none.set('a', 1);
    expect([none.has('a'), none.size]).toEqual([false, 0]);
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.delete('a');
    expect([map.get('a'), map.size]).toEqual([undefined, 0]);
  });
});
