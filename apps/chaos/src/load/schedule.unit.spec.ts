import { arrivalCount, dueArrivals, intendedStartMs, pickWeighted } from './schedule';

describe('the open-loop arrival schedule', () => {
  it('has rate × duration arrivals, evenly spaced from 0', () => {
    expect(arrivalCount(20, 30)).toBe(600);
    expect(arrivalCount(0.1, 30)).toBe(3);
    expect(arrivalCount(3, 0.5)).toBe(1);
    expect([0, 1, 2, 3].map((index) => intendedStartMs(index, 20))).toEqual([0, 50, 100, 150]);
    expect(intendedStartMs(599, 20)).toBe(29_950);
  });

  it('makes due every arrival whose intended start has passed, from the first not yet sent', () => {
    expect(dueArrivals(0, 0, 20, 600)).toBe(1); // arrival 0 at once
    expect(dueArrivals(1, 49.9, 20, 600)).toBe(1); // arrival 1 is due at 50 ms
    expect(dueArrivals(1, 50, 20, 600)).toBe(2);
    expect(dueArrivals(2, 120, 20, 600)).toBe(3);
  });

  it('catches up after a stall: all the arrivals missed are due at once, none skipped', () => {
    // The timer meant for 100 ms fires at 1 000 ms: arrivals 2..20 are all due now.
    expect(dueArrivals(2, 1_000, 20, 600)).toBe(21);
  });

  it('never goes past the last arrival', () => {
    expect(dueArrivals(0, 60_000, 20, 600)).toBe(600);
    expect(dueArrivals(600, 60_000, 20, 600)).toBe(600);
  });
});

describe('pickWeighted', () => {
  const mix = { browse: 70, order: 25, cancel: 5 };

  it('picks by the weights, in order', () => {
    expect(pickWeighted(mix, () => 0)).toBe('browse');
    expect(pickWeighted(mix, () => 0.6999)).toBe('browse');
    expect(pickWeighted(mix, () => 0.7)).toBe('order');
    expect(pickWeighted(mix, () => 0.9499)).toBe('order');
    expect(pickWeighted(mix, () => 0.95)).toBe('cancel');
    expect(pickWeighted(mix, () => 0.999999)).toBe('cancel');
  });

  it('never picks a key with weight 0', () => {
    const onlyOrders = { browse: 0, order: 1, cancel: 0 };
    for (const point of [0, 0.25, 0.5, 0.999999]) expect(pickWeighted(onlyOrders, () => point)).toBe('order');
  });

  it('comes close to the weights over many picks', () => {
    let state = 1;
    const random = (): number => {
      state = (state * 48_271) % 2_147_483_647;
      return state / 2_147_483_647;
    };
    const counts = { browse: 0, order: 0, cancel: 0 };
    for (let i = 0; i < 100_000; i++) counts[pickWeighted(mix, random)] += 1;
    expect(counts.browse / 1_000).toBeCloseTo(70, 0);
    expect(counts.order / 1_000).toBeCloseTo(25, 0);
    expect(counts.cancel / 1_000).toBeCloseTo(5, 0);
  });

  it('refuses weights that are all 0', () => {
    expect(() => pickWeighted({ browse: 0, order: 0, cancel: 0 }, () => 0.5)).toThrow('every weight is 0');
  });
});
