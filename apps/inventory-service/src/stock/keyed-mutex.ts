/**
 * Work that runs alone per key within this process: a call waits for every
 * earlier call that shares one of its keys. A call registers on all its keys
 * at once, so calls wait only for earlier ones and can never wait in a circle.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const earlier = unique.flatMap((key) => {
      const tail = this.tails.get(key);
      return tail ? [tail] : [];
    });
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const key of unique) this.tails.set(key, done);
    try {
      await Promise.all(earlier);
      return await work();
    } finally {
      release();
      for (const key of unique) if (this.tails.get(key) === done) this.tails.delete(key);
    }
  }

  /** Keys some call holds or waits for (for tests: none once all calls ended). */
  get size(): number {
    return this.tails.size;
  }
}
