import { z } from 'zod';

/**
 * Faults a chaos experiment sets on a service's own inbound requests
 * (docs/contract.md, "Fault injection"): added latency, a share of requests
 * answered 503, or requests that hang until the faults are cleared. A service
 * may add its own kinds (the payment provider's decline rate and outage).
 */
export const faultsShape = {
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  hang: z.boolean().optional(),
} as const;

export const faultsSchema = z.strictObject(faultsShape);

export type Faults = z.infer<typeof faultsSchema> & Record<string, unknown>;

export type FaultDecision = { readonly kind: 'pass' } | { readonly kind: 'error' } | { readonly kind: 'hang' };

export class FaultInjector {
  private faults: Faults = {};
  private readonly hung = new Set<() => void>();
  private readonly random: () => number;
  /** What PUT /admin/faults accepts; a service with faults of its own passes a wider schema. */
  readonly schema: z.ZodType<Faults>;

  constructor(options: { schema?: z.ZodType<Faults>; random?: () => number } = {}) {
    this.schema = options.schema ?? faultsSchema;
    this.random = options.random ?? Math.random;
  }

  current(): Faults {
    return { ...this.faults };
  }

  replace(faults: Faults): void {
    this.faults = { ...faults };
    if (!faults.hang) this.releaseHung();
  }

  clear(): void {
    this.faults = {};
    this.releaseHung();
  }

  /** Applies latency, then decides: pass, inject an error, or hang. */
  async apply(): Promise<FaultDecision> {
    const { latencyMs, errorRate, hang } = this.faults;
    if (latencyMs) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (hang) {
      await new Promise<void>((resolve) => this.hung.add(resolve));
      return { kind: 'hang' };
    }
    if (errorRate !== undefined && errorRate > 0 && this.random() < errorRate) return { kind: 'error' };
    return { kind: 'pass' };
  }

  /** A hung request is let go (answered 503) once the hang is cleared, so no socket leaks. */
  private releaseHung(): void {
    for (const release of this.hung) release();
    this.hung.clear();
  }
}
