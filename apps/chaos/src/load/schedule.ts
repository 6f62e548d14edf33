/**
 * The open-loop arrival schedule: arrival i of a run at `ratePerSecond` is
 * meant to start i / rate seconds after the load starts, whatever happened to
 * the arrivals before it. Latency is measured from that intended start, so
 * when the system (or the generator itself) stalls, the wait shows up in the
 * latency instead of silently lowering the rate: no coordinated omission.
 */

/** How many arrivals a run has: one every 1/rate s over the duration. */
export function arrivalCount(ratePerSecond: number, durationSeconds: number): number {
  // The small epsilon keeps 0.1/s × 30 s at 3 arrivals despite floating point.
  return Math.floor(ratePerSecond * durationSeconds + 1e-9);
}

/** When arrival `index` is meant to start, in ms after the load starts. */
export function intendedStartMs(index: number, ratePerSecond: number): number {
  return (index * 1000) / ratePerSecond;
}

/**
 * The arrivals due by `elapsedMs`: from `next` (the first not yet started) up
 * to, not including, the returned index. A late timer or a busy event loop
 * makes several due at once; each still carries its own intended start.
 */
export function dueArrivals(next: number, elapsedMs: number, ratePerSecond: number, total: number): number {
  let end = next;
  while (end < total && intendedStartMs(end, ratePerSecond) <= elapsedMs) end++;
  return end;
}

/** Picks a key by weight with `random()` in [0, 1); keys with weight 0 are never picked. */
export function pickWeighted<K extends string>(weights: Readonly<Record<K, number>>, random: () => number): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  const sum = entries.reduce((total, [, weight]) => total + weight, 0);
  let point = random() * sum;
  for (const [key, weight] of entries) {
    if (weight <= 0) continue;
    if (point < weight) return key;
    point -= weight;
  }
  // Floating point can leave `point` a hair above the last weight: the last key with a weight.
  const last = entries.filter(([, weight]) => weight > 0).pop();
  if (!last) throw new Error('every weight is 0');
  return last[0];
}
