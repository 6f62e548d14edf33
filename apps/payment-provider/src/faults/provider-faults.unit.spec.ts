import { createProviderFaults, currentProviderFaults, providerFaultsSchema } from './provider-faults';

describe('provider faults', () => {
  it('accepts the common faults together with declineRate and outage', () => {
    expect(
      providerFaultsSchema.safeParse({ latencyMs: 100, errorRate: 0.1, hang: false, declineRate: 0.5, outage: true })
        .success,
    ).toBe(true);
  });

  it('refuses a declineRate outside 0..1, a non-boolean outage and unknown kinds', () => {
    expect(providerFaultsSchema.safeParse({ declineRate: 1.5 }).success).toBe(false);
    expect(providerFaultsSchema.safeParse({ declineRate: -0.1 }).success).toBe(false);
    expect(providerFaultsSchema.safeParse({ outage: 'yes' }).success).toBe(false);
    expect(providerFaultsSchema.safeParse({ flood: true }).success).toBe(false);
  });

  it('gives the fault injector the wider schema, so PUT /admin/faults takes the provider faults', () => {
    const faults = createProviderFaults();
    expect(faults.schema.safeParse({ declineRate: 0.2, outage: false }).success).toBe(true);
    faults.replace({ declineRate: 0.2, outage: true });
    expect(currentProviderFaults(faults)).toEqual({ declineRate: 0.2, outage: true });
    faults.clear();
    expect(currentProviderFaults(faults)).toEqual({});
  });
});
