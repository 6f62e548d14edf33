/**
 * A Map that keeps at most `capacity` entries: past it, the oldest entry
 * goes (a Map iterates in insertion order). `set` makes an entry the newest;
 * with `refreshOnGet`, so does `get` (least recently used goes first),
 * without it the entry set longest ago goes first. A capacity of 0 keeps
 * nothing.
 *
 * What the writers keep in memory to skip a read (a stream's state, the SKUs
 * an order holds, the prices last read) is bounded this way: an entry is a
 * hint that saves a read, so forgetting one costs a read, never a wrong
 * decision.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly options: { readonly refreshOnGet?: boolean } = {},
  ) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined && this.options.refreshOnGet) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
