import { FaultInjector } from './fault-injection';

describe('FaultInjector', () => {
  it('passes every request when no fault is set', async () => {
    const faults = new FaultInjector({ random: () => 0 });
    await expect(faults.apply()).resolves.toEqual({ kind: 'pass' });
  });

  it('answers with an error for the share of requests given by errorRate', async () => {
    const draws = [0.1, 0.5, 0.9];
    const faults = new FaultInjector({ random: () => draws.shift() ?? 1 });
    faults.replace({ errorRate: 0.5 });
    const decisions = [await faults.apply(), await faults.apply(), await faults.apply()];
    expect(decisions.map((decision) => decision.kind)).toEqual(['error', 'pass', 'pass']);
  });

  it('holds requests while hang is set and lets them go when it is cleared', async () => {
    const faults = new FaultInjector();
    faults.replace({ hang: true });
    let settled = false;
    const pending = faults.apply().then((decision) => {
      settled = true;
      return decision;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    faults.clear();
    await expect(pending).resolves.toEqual({ kind: 'hang' });
    expect(faults.current()).toEqual({});
  });

  it('rejects unknown fault kinds and out-of-range values', () => {
    const faults = new FaultInjector();
    expect(faults.schema.safeParse({ errorRate: 1.5 }).success).toBe(false);
    expect(faults.schema.safeParse({ declineRate: 0.5 }).success).toBe(false);
    expect(faults.schema.safeParse({ latencyMs: 200, errorRate: 0.1 }).success).toBe(true);
  });
});
