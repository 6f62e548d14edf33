import { LatencyHistogram } from './histogram';
import type { LoadReport, SecondSample } from './types';

/** What one request came to. */
export interface Outcome {
  /** The HTTP status ("202"), or "timeout" / "network" when no answer came. */
  readonly status: string;
  /** Transport failures, 5xx and 4xx the workload does not expect. */
  readonly error: boolean;
  readonly orderAccepted?: boolean;
  /** The accepted order's id (202, or 200 on a replay). */
  readonly orderId?: string;
  readonly cancelAccepted?: boolean;
}

interface Second {
  requests: number;
  started: number;
  errors: number;
  dropped: number;
  ordersAccepted: number;
  readonly byStatus: Record<string, number>;
  readonly latency: LatencyHistogram;
}

function emptySecond(): Second {
  return {
    requests: 0,
    started: 0,
    errors: 0,
    dropped: 0,
    ordersAccepted: 0,
    byStatus: {},
    latency: new LatencyHistogram(),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * Per-second samples and run totals. Everything is counted in the second in
 * which it happens (a request when its answer arrives, with its latency; a
 * start or a drop when it is scheduled), so a second is final once it has
 * passed and can be handed out at once. Times are the monotonic clock's ms;
 * `at` in a sample is wall-clock ms.
 */
export class LoadRecorder {
  private readonly seconds = new Map<number, Second>();
  private nextToClose = 0;
  private readonly total = emptySecond();
  private cancelsAccepted = 0;

  constructor(
    private readonly startMs: number,
    private readonly startWallMs: number,
  ) {}

  private second(nowMs: number): Second {
    // Never into a second already handed out (a timer can fire a hair early).
    const index = Math.max(this.nextToClose, Math.floor((nowMs - this.startMs) / 1000));
    let second = this.seconds.get(index);
    if (!second) {
      second = emptySecond();
      this.seconds.set(index, second);
    }
    return second;
  }

  started(nowMs: number): void {
    this.second(nowMs).started += 1;
    this.total.started += 1;
  }

  dropped(nowMs: number): void {
    this.second(nowMs).dropped += 1;
    this.total.dropped += 1;
  }

  answered(nowMs: number, latencyMs: number, outcome: Outcome): void {
    for (const second of [this.second(nowMs), this.total]) {
      second.requests += 1;
      second.byStatus[outcome.status] = (second.byStatus[outcome.status] ?? 0) + 1;
      if (outcome.error) second.errors += 1;
      if (outcome.orderAccepted) second.ordersAccepted += 1;
      second.latency.record(latencyMs);
    }
    if (outcome.cancelAccepted) this.cancelsAccepted += 1;
  }

  /** The samples of every second that ended by `nowMs` and was not handed out yet (empty ones too). */
  closeEnded(nowMs: number, inFlight: number): SecondSample[] {
    return this.closeUpTo(Math.floor((nowMs - this.startMs) / 1000), inFlight);
  }

  /** At the end of the run: the ended seconds, and the current one if anything happened in it. */
  closeAll(nowMs: number, inFlight: number): SecondSample[] {
    const current = Math.floor((nowMs - this.startMs) / 1000);
    return this.closeUpTo(this.seconds.has(current) ? current + 1 : current, inFlight);
  }

  private closeUpTo(endExclusive: number, inFlight: number): SecondSample[] {
    const samples: SecondSample[] = [];
    for (; this.nextToClose < endExclusive; this.nextToClose++) {
      const index = this.nextToClose;
      const second = this.seconds.get(index) ?? emptySecond();
      this.seconds.delete(index);
      samples.push({
        second: index,
        at: this.startWallMs + index * 1000,
        requests: second.requests,
        started: second.started,
        errors: second.errors,
        dropped: second.dropped,
        inFlight,
        byStatus: second.byStatus,
        p50Ms: round(second.latency.percentile(50)),
        p99Ms: round(second.latency.percentile(99)),
        ordersAccepted: second.ordersAccepted,
      });
    }
    return samples;
  }

  totals(): LoadReport['totals'] {
    return {
      requests: this.total.requests,
      started: this.total.started,
      errors: this.total.errors,
      dropped: this.total.dropped,
      byStatus: { ...this.total.byStatus },
      p50Ms: round(this.total.latency.percentile(50)),
      p99Ms: round(this.total.latency.percentile(99)),
      maxMs: round(this.total.latency.maxMs),
      ordersAccepted: this.total.ordersAccepted,
      cancelsAccepted: this.cancelsAccepted,
    };
  }
}
