import { decideOnAssumedState, StateCache, UNCHECKED } from './state-cache';
import { ConcurrencyError } from './types';

describe('decideOnAssumedState', () => {
  const assumed = { state: 'cached', version: 3, lastEventId: 'e3' };
  const stored = { state: 'stored', version: 4, lastEventId: 'e4' };
  const run = (decide: (state: string, isAssumed: boolean) => Promise<string | typeof UNCHECKED>, start = assumed) => {
    const seen: string[] = [];
    const result = decideOnAssumedState(
      start,
      () => Promise.resolve(stored),
      (loaded, isAssumed) => {
        seen.push(`${loaded.state}:${isAssumed}`);
        return decide(loaded.state, isAssumed);
      },
    );
    return { seen, result };
  };

  it('keeps a decision the assumed state could check, without reading the stream', async () => {
    const { seen, result } = run(async () => 'appended');
    await expect(result).resolves.toBe('appended');
    expect(seen).toEqual(['cached:true']);
  });

  it('decides again on the stream what the assumed state left unchecked', async () => {
    const { seen, result } = run(async (state, isAssumed) => (isAssumed ? UNCHECKED : `on ${state}`));
    await expect(result).resolves.toBe('on stored');
    expect(seen).toEqual(['cached:true', 'stored:false']);
  });

  it('decides again on the stream when the append failed its check', async () => {
    const { seen, result } = run(async (state, isAssumed) => {
      if (isAssumed) throw new ConcurrencyError('s', 3, 4);
      return `on ${state}`;
    });
    await expect(result).resolves.toBe('on stored');
    expect(seen).toEqual(['cached:true', 'stored:false']);
  });

  it('does not retry a unique violation (an aborted transaction) nor any other error', async () => {
    await expect(run(async () => Promise.reject(new ConcurrencyError('s', 3, undefined))).result).rejects.toMatchObject(
      {
        actual: undefined,
      },
    );
    await expect(run(async () => Promise.reject(new Error('boom'))).result).rejects.toThrow('boom');
  });

  it('reads the stream when nothing is assumed, and refuses UNCHECKED there', async () => {
    const decide = async (state: string) => `on ${state}`;
    const none = decideOnAssumedState(
      undefined,
      () => Promise.resolve(stored),
      (loaded) => decide(loaded.state),
    );
    await expect(none).resolves.toBe('on stored');
    await expect(run(async () => UNCHECKED).result).rejects.toThrow('UNCHECKED');
  });
});

describe('StateCache', () => {
  it('forgets the least recently used stream beyond its capacity, and keeps nothing at capacity 0', () => {
    const cache = new StateCache<number>(2);
    cache.set('a', { state: 1, version: 1, lastEventId: 'a1' });
    cache.set('b', { state: 2, version: 1, lastEventId: 'b1' });
    cache.get('a');
    cache.set('c', { state: 3, version: 1, lastEventId: 'c1' });
    expect([cache.get('a')?.state, cache.get('b'), cache.get('c')?.state]).toEqual([1, undefined, 3]);
    const none = new StateCache<number>(0);
    none.set('a', { state: 1, version: 1, lastEventId: 'a1' });
    expect(none.size).toBe(0);
  });
});
