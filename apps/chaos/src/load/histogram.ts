/**
 * A latency histogram in the manner of HdrHistogram: values (recorded in
 * milliseconds, kept as whole microseconds) fall into log-linear buckets,
 * exact below 256 µs and, above, 128 linear sub-buckets per power of two. A
 * percentile is the middle of its bucket, so it is within 0.4% of the true
 * value (plus the rounding to a microsecond); the maximum is exact. Memory is
 * fixed (at most a few thousand counters) whatever the number of values,
 * and two histograms merge by adding counters.
 */
const EXACT_BELOW = 256; // 2^8: below this, one bucket per microsecond
const SUB_BUCKETS = 128; // linear sub-buckets per power of two above it
const SUB_BITS = 7;
const FIRST_MAGNITUDE = 8;

/** floor(log2(v)) for an integer v ≥ 1, exact up to 2^53. */
function magnitude(v: number): number {
  return v < 2 ** 32 ? 31 - Math.clz32(v) : 32 + (31 - Math.clz32(Math.floor(v / 2 ** 32)));
}

export function bucketIndex(micros: number): number {
  if (micros < EXACT_BELOW) return micros;
  const m = magnitude(micros);
  const shift = m - SUB_BITS;
  const sub = Math.floor(micros / 2 ** shift) - SUB_BUCKETS;
  return EXACT_BELOW + (m - FIRST_MAGNITUDE) * SUB_BUCKETS + sub;
}

/** The value (µs) that stands for a bucket: the middle of the integers it holds. */
export function bucketMidpoint(index: number): number {
  if (index < EXACT_BELOW) return index;
  const m = FIRST_MAGNITUDE + Math.floor((index - EXACT_BELOW) / SUB_BUCKETS);
  const sub = (index - EXACT_BELOW) % SUB_BUCKETS;
  const width = 2 ** (m - SUB_BITS);
  return (SUB_BUCKETS + sub) * width + (width - 1) / 2;
}

export class LatencyHistogram {
  private counts: number[] = [];
  private total = 0;
  private minMicros = Number.POSITIVE_INFINITY;
  private maxMicros = 0;

  /** Records one latency in milliseconds (negative values count as 0). */
  record(ms: number): void {
    const micros = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(ms * 1000)));
    const index = bucketIndex(micros);
    while (this.counts.length <= index) this.counts.push(0);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    if (micros < this.minMicros) this.minMicros = micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  get count(): number {
    return this.total;
  }

  /** The largest value recorded, in ms (0 when empty). */
  get maxMs(): number {
    return this.maxMicros / 1000;
  }

  /**
   * The value at percentile `p` (0..100) in ms, by nearest rank: the smallest
   * recorded value with at least p% of the values at or below it. 0 when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) * this.total) / 100));
    if (rank === this.total) return this.maxMs;
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) {
        // The bucket's middle, but never outside what was actually recorded.
        return Math.min(this.maxMicros, Math.max(this.minMicros, bucketMidpoint(index))) / 1000;
      }
    }
    return this.maxMs;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    while (this.counts.length < other.counts.length) this.counts.push(0);
    other.counts.forEach((count, index) => {
      this.counts[index] = (this.counts[index] ?? 0) + count;
    });
    this.total += other.total;
    this.minMicros = Math.min(this.minMicros, other.minMicros);
    this.maxMicros = Math.max(this.maxMicros, other.maxMicros);
  }

  reset(): void {
    this.counts = [];
    this.total = 0;
    this.minMicros = Number.POSITIVE_INFINITY;
    this.maxMicros = 0;
  }
}
