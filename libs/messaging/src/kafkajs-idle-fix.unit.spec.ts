import { applyKafkajsIdleFix, requestQueueClass } from './kafkajs-idle-fix';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
}

/** kafkajs's own request queue (one per broker connection), as a connection builds it. */
function queue(): Queue {
  const RequestQueue = requestQueueClass() as unknown as new (options: object) => Queue;
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'idle-fix',
    broker: '127.0.0.1:9092',
    logger: { debug: () => undefined, warn: () => undefined, error: () => undefined, info: () => undefined },
  });
}

describe("kafkajs request queue's idle timer", () => {
  const queues: Queue[] = [];
  const make = () => {
    const made = queue();
    queues.push(made);
    return made;
  };

  beforeAll(() => applyKafkajsIdleFix());
  afterEach(() => {
    for (const made of queues.splice(0)) if (made.throttleCheckTimeoutId) clearTimeout(made.throttleCheckTimeoutId);
  });

  it('arms no timer when no request waits (kafkajs 2.2.4 re-armed one every millisecond, forever)', () => {
    const idle = make();
    idle.scheduleCheckPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
    // What runs after every response: the check finds nothing and schedules nothing.
    idle.checkPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('still checks a waiting request: at the end of a throttle, or after 10 ms when the queue is full', () => {
    jest.useFakeTimers();
    try {
      const full = make();
      full.pending.push({});
      full.scheduleCheckPendingRequests();
      expect(full.throttleCheckTimeoutId).not.toBeNull();
      const check = jest.spyOn(full, 'checkPendingRequests').mockImplementation(() => undefined);
      jest.advanceTimersByTime(9);
      expect(check).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(check).toHaveBeenCalledTimes(1);

      const throttled = make();
      throttled.pending.push({});
      throttled.throttledUntil = Date.now() + 500;
      throttled.scheduleCheckPendingRequests();
      const afterThrottle = jest.spyOn(throttled, 'checkPendingRequests').mockImplementation(() => undefined);
      jest.advanceTimersByTime(499);
      expect(afterThrottle).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(afterThrottle).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
