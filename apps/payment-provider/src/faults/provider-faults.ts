import { FaultInjector, faultsShape } from '@shop/health';
import { z } from 'zod';

/**
 * What PUT /admin/faults accepts on the provider: the common faults of
 * @shop/health (latencyMs, errorRate, hang), plus the card processor's own:
 * - declineRate (0..1): that share of otherwise approved charges is declined
 *   with `card_declined`;
 * - outage: every /v1 request is answered 503 + Retry-After, and nothing is
 *   written.
 */
export const providerFaultsSchema = z.strictObject({
  ...faultsShape,
  declineRate: z.number().min(0).max(1).optional(),
  outage: z.boolean().optional(),
});

export type ProviderFaults = z.infer<typeof providerFaultsSchema>;

/** The token under which the provider's use cases find the fault injector. */
export const PROVIDER_FAULTS = Symbol('PROVIDER_FAULTS');

/** The source of uniform draws in [0, 1) for the decline rate (Math.random unless a test passes its own). */
export const RANDOM = Symbol('RANDOM');

export function createProviderFaults(options: { random?: () => number } = {}): FaultInjector {
  return new FaultInjector({ schema: providerFaultsSchema, ...options });
}

/** The faults set right now, typed (they were validated by the schema when set). */
export function currentProviderFaults(faults: FaultInjector): ProviderFaults {
  const parsed = providerFaultsSchema.safeParse(faults.current());
  return parsed.success ? parsed.data : {};
}
