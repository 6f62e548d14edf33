import { KeyedMutex } from './keyed-mutex';

/** A promise and its resolver, to hold a call's work open until the test lets it end. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('KeyedMutex', () => {
  it('runs calls that share a key one after another, in call order, and others beside them', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const first = gate();
    const a = mutex.run(['x', 'y'], async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
    });
    const b = mutex.run(['y'], async () => {
      log.push('b');
    });
    const c = mutex.run(['z'], async () => {
      log.push('c');
    });
    await c;
    expect(log).toEqual(['a start', 'c']);
    first.open();
    await Promise.all([a, b]);
    expect(log).toEqual(['a start', 'c', 'a end', 'b']);
    expect(mutex.size).toBe(0);
  });

  it('lets the next call run after a failed one, and passes the failure to its caller', async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run(['x'], () => Promise.reject(new Error('boom')));
    const next = mutex.run(['x'], () => Promise.resolve('ran'));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
    expect(mutex.size).toBe(0);
  });

  it('never waits in a circle: calls taking the same keys in opposite orders all end', async () => {
    const mutex = new KeyedMutex();
    const ended: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        mutex.run(index % 2 === 0 ? ['p', 'q'] : ['q', 'p'], async () => {
          await Promise.resolve();
          ended.push(index);
        }),
      ),
    );
    expect(ended).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });
});
