import { LoadRecorder } from './recorder';

const ok = { status: '200', error: false };

describe('LoadRecorder', () => {
  it('counts each answer in the second it arrives, with its latency', () => {
    const recorder = new LoadRecorder(10_000, 1_700_000_000_000);
    recorder.started(10_000);
    recorder.started(10_500);
    recorder.answered(10_400, 400, ok);
    recorder.answered(11_200, 700, { status: '503', error: true });
    recorder.dropped(11_300);

    const [first, second, ...rest] = recorder.closeEnded(12_000, 0);
    expect(rest).toEqual([]);
    expect(first).toEqual({
      second: 0,
      at: 1_700_000_000_000,
      requests: 1,
      started: 2,
      errors: 0,
      dropped: 0,
      inFlight: 0,
      byStatus: { '200': 1 },
      p50Ms: 400,
      p99Ms: 400,
      ordersAccepted: 0,
    });
    expect(second).toMatchObject({ second: 1, at: 1_700_000_001_000, requests: 1, started: 0, errors: 1, dropped: 1 });
    expect(second?.byStatus).toEqual({ '503': 1 });
    expect(second?.p99Ms).toBe(700);
  });

  it('hands out each second once, empty ones too, and only once it has ended', () => {
    const recorder = new LoadRecorder(0, 0);
    recorder.answered(500, 1, ok);
    expect(recorder.closeEnded(999, 1)).toEqual([]);
    expect(recorder.closeEnded(1_000, 1).map((sample) => sample.second)).toEqual([0]);
    expect(recorder.closeEnded(1_000, 1)).toEqual([]);
    // Nothing happened in seconds 1 and 2: they are still samples (a stall is a gap in the chart, not a hole).
    const [one, two] = recorder.closeEnded(3_100, 7);
    expect(one).toMatchObject({ second: 1, requests: 0, p50Ms: 0, p99Ms: 0, inFlight: 7 });
    expect(two).toMatchObject({ second: 2, requests: 0 });
  });

  it('at the end, closes the current second only if something happened in it', () => {
    const idle = new LoadRecorder(0, 0);
    idle.answered(100, 5, ok);
    expect(idle.closeAll(1_000.5, 0).map((sample) => sample.second)).toEqual([0]);

    const busy = new LoadRecorder(0, 0);
    busy.answered(100, 5, ok);
    busy.answered(1_200, 5, ok);
    expect(busy.closeAll(1_300, 0).map((sample) => sample.requests)).toEqual([1, 1]);
  });

  it('totals every second, with orders and cancels accepted and the exact maximum', () => {
    const recorder = new LoadRecorder(0, 0);
    for (let i = 1; i <= 100; i++) recorder.answered(i * 30, i, ok);
    recorder.answered(3_500, 1_234.5, { status: '202', error: false, orderAccepted: true, orderId: 'o-1' });
    recorder.answered(3_600, 2, { status: '202', error: false, cancelAccepted: true });
    recorder.answered(3_700, 3, { status: '409', error: false });
    recorder.answered(3_800, 10_000, { status: 'timeout', error: true });
    recorder.dropped(3_900);

    const totals = recorder.totals();
    expect(totals).toMatchObject({
      requests: 104,
      started: 0,
      errors: 1,
      dropped: 1,
      byStatus: { '200': 100, '202': 2, '409': 1, timeout: 1 },
      maxMs: 10_000,
      ordersAccepted: 1,
      cancelsAccepted: 1,
    });
    // Sorted: 1, 2, 2, 3, 3, 4 … 100, 1234.5, 10000: the 52nd is 50, the 103rd 1234.5 (histogram: within 1%).
    expect(Math.abs(totals.p50Ms - 50)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(totals.p99Ms - 1_234.5)).toBeLessThanOrEqual(12.4);
    // A late answer never lands in a second already handed out.
    recorder.closeEnded(5_000, 0);
    recorder.answered(4_999, 1, ok);
    expect(recorder.closeAll(5_001, 0).map((sample) => sample.second)).toEqual([5]);
  });
});
