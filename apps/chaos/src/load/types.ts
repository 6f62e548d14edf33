/**
 * The load generator's interface, shared by `npm run chaos -- load`, the
 * experiment runner and the end-to-end benchmark.
 */

/** What one virtual customer does next, by weight (docs/contract.md routes only, through the gateway). */
export interface WorkloadMix {
  /** GET /products and GET /products/:sku. */
  readonly browse: number;
  /** POST /orders (mostly tok_visa, some declines, some low-stock SKUs). */
  readonly order: number;
  /** POST /orders/:id/cancel of one of the customer's own orders. */
  readonly cancel: number;
}

export const DEFAULT_MIX: WorkloadMix = { browse: 70, order: 25, cancel: 5 };

export interface LoadOptions {
  /** The gateway's base URL (http://127.0.0.1:3000); only loopback or compose-network hosts are accepted. */
  readonly gatewayUrl: string;
  /**
   * open: requests start at `ratePerSecond` whatever the system does (no
   * coordinated omission); closed: `users` virtual customers, each waiting for
   * its answer before the next request.
   */
  readonly mode: 'open' | 'closed';
  /** Arrivals per second; required in open mode (runLoad throws without it). */
  readonly ratePerSecond?: number;
  /** Virtual users; required in closed mode. */
  readonly users?: number;
  /** No request starts after this; those in flight are then awaited (so samples may run a second past it). */
  readonly durationSeconds: number;
  readonly mix?: WorkloadMix;
  /** Customers registered before the load starts (default 20). */
  readonly customers?: number;
  /**
   * Keeps the customers (email, password, access token) in this file: when it
   * exists they are read from it and only the missing ones are registered;
   * after set-up it is written back. Consecutive runs (a benchmark's steps)
   * then reuse them instead of each registering and logging in its own, a
   * burst of password hashing that is not the load being measured.
   */
  readonly customersFile?: string;
  /** Requests in flight at most in open mode; beyond it an arrival counts as dropped (default 2000). */
  readonly maxInFlight?: number;
  /** A request with no answer after this long counts as an error with status "timeout" (default 10000). */
  readonly requestTimeoutMs?: number;
  /** Called once a second with the second that just ended. */
  readonly onSample?: (sample: SecondSample) => void;
  /** Told what set-up decided that a reader should know (saved customers discarded, tokens renewed). */
  readonly onNotice?: (line: string) => void;
  /** Stops the load early (Ctrl-C, an experiment's end); in-flight requests are awaited. */
  readonly signal?: AbortSignal;
}

/** One second of load, as recorded and charted. */
export interface SecondSample {
  /** Seconds since the load started (0, 1, 2, …). */
  readonly second: number;
  /** Unix milliseconds at the start of the second. */
  readonly at: number;
  /** Requests answered (or failed) in this second; their latencies make p50/p99. */
  readonly requests: number;
  /** Requests sent in this second (always set by runLoad; optional so hand-made samples need not). */
  readonly started?: number;
  /**
   * Transport failures (no answer in time, connection refused), 5xx, and a 4xx
   * the workload does not expect (400, 401, 404, …). Not errors: 409 on a
   * cancel (the order was already REJECTED/CANCELLED) and 429 (the gateway's
   * rate limit); they count in `byStatus` only.
   */
  readonly errors: number;
  /** Arrivals not sent because maxInFlight requests were pending (open mode). */
  readonly dropped: number;
  /** Requests still waiting for an answer when the second ended (always set by runLoad). */
  readonly inFlight?: number;
  /** Answers by HTTP status ("200", "503", …), and "timeout" / "network" for requests with none. */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ordersAccepted: number;
}

export interface LoadReport {
  readonly options: Omit<LoadOptions, 'onSample' | 'signal'>;
  readonly samples: readonly SecondSample[];
  readonly totals: {
    readonly requests: number;
    /** Requests sent (always set by runLoad); with `requests`, whether all were awaited. */
    readonly started?: number;
    readonly errors: number;
    readonly dropped: number;
    readonly byStatus: Readonly<Record<string, number>>;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly ordersAccepted: number;
    readonly cancelsAccepted: number;
  };
  /** Every order answered 202 (or 200 on a replay): what the invariant auditor must find terminal. */
  readonly orderIds: readonly string[];
}

/** Implemented in ./load.ts. */
export type RunLoad = (options: LoadOptions) => Promise<LoadReport>;
