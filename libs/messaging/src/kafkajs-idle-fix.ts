/**
 * kafkajs 2.2.4, its latest release, re-arms a timer every millisecond for
 * as long as a broker connection is open, whether or not a request waits:
 * `scheduleCheckPendingRequests` schedules `checkPendingRequests` with a
 * negative delay (`throttledUntil` is -1 when not throttled), and that check
 * schedules the next one (tulios/kafkajs#1556, #1704; Node 24's
 * TimeoutNegativeWarning, #1751, is the same negative delay). Every client
 * (producer, consumer, admin) of every service spun that loop, idle or busy:
 * about 5 % of a core per service at rest.
 *
 * The replacement schedules a check only when a request waits in the queue:
 * at the end of the broker's throttle, or after the library's 10 ms interval
 * when the queue is merely full (a response that frees a slot checks it too,
 * as before). A queue with nothing pending needs no timer: the next request
 * that cannot go out at once schedules one. Applied once per process, before
 * any client connects (createKafka calls it).
 */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
let applied = false;

export function requestQueueClass(): { prototype: RequestQueueInternals } {
  // An internal module of kafkajs: no types, and the package has no exports map to hide it.
  return require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals };
}

export function applyKafkajsIdleFix(): void {
  if (applied) return;
  applied = true;
  requestQueueClass().prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
    this: RequestQueueInternals,
  ): void {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
    );
  };
}
