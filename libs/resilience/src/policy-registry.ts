import type { BreakerState } from './metrics';

/** Counts over the breaker's rolling window (10 s); each attempt is counted once. */
export interface PolicyStats {
  readonly calls: number;
  readonly successes: number;
  readonly failures: number;
  readonly timeouts: number;
  readonly bulkheadRejections: number;
  readonly shortCircuits: number;
  readonly latencyMeanMs: number;
}

export interface PolicySnapshot {
  readonly state: BreakerState;
  readonly stats: PolicyStats;
}

/** What the registry needs of a policy. */
export interface RegisteredPolicy {
  readonly name: string;
  snapshot(): PolicySnapshot;
  shutdown(): void;
}

/** The policies of a process, by name: what /health/ready shows and what shutdown stops. */
export class PolicyRegistry {
  private readonly policies = new Map<string, RegisteredPolicy>();

  add(policy: RegisteredPolicy): void {
    // Two breakers under one name would share metrics and hide each other on /health/ready.
    if (this.policies.has(policy.name)) throw new Error(`a policy named "${policy.name}" already exists`);
    this.policies.set(policy.name, policy);
  }

  remove(policy: RegisteredPolicy): void {
    if (this.policies.get(policy.name) === policy) this.policies.delete(policy.name);
  }

  get(name: string): RegisteredPolicy | undefined {
    return this.policies.get(name);
  }

  snapshot(): Record<string, PolicySnapshot> {
    return Object.fromEntries([...this.policies].map(([name, policy]) => [name, policy.snapshot()]));
  }

  /** Shuts every policy down (for a service's onShutdown). */
  shutdown(): void {
    for (const policy of [...this.policies.values()]) policy.shutdown();
  }
}

/** The process-wide registry every policy joins unless it is given another. */
export const policyRegistry = new PolicyRegistry();

/**
 * Breaker states for the `details` of /health/ready: shown, never making the
 * service unready (structurally @shop/health's ReadinessDetail).
 */
export function policyReadinessDetail(registry: PolicyRegistry = policyRegistry): {
  readonly name: 'breakers';
  read(): Record<string, unknown>;
} {
  return { name: 'breakers', read: () => registry.snapshot() };
}
