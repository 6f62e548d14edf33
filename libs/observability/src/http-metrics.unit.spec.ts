import { register } from 'prom-client';
import {
  collectProcessMetrics,
  HTTP_DURATION_BUCKETS,
  HTTP_SERVER_DURATION,
  observeHttpRequest,
  routeLabel,
  UNMATCHED_ROUTE,
} from './http-metrics';

describe('routeLabel', () => {
  it('is the route template', () => {
    expect(routeLabel('/orders/:orderId')).toBe('/orders/:orderId');
  });

  it('is "unmatched" when no route matched', () => {
    expect(routeLabel(undefined)).toBe(UNMATCHED_ROUTE);
    expect(routeLabel('')).toBe(UNMATCHED_ROUTE);
  });
});

describe('observeHttpRequest', () => {
  beforeEach(() => register.resetMetrics());

  it('labels the duration with the route template, never the raw id', async () => {
    observeHttpRequest({ method: 'GET', routeTemplate: '/orders/:orderId', statusCode: 200, durationSeconds: 0.004 });
    observeHttpRequest({ method: 'GET', routeTemplate: undefined, statusCode: 404, durationSeconds: 0.0005 });
    const text = await register.getSingleMetricAsString(HTTP_SERVER_DURATION);
    expect(text).toContain(
      `${HTTP_SERVER_DURATION}_bucket{le="0.005",method="GET",route="/orders/:orderId",status_code="200"} 1`,
    );
    expect(text).toContain(`${HTTP_SERVER_DURATION}_count{method="GET",route="unmatched",status_code="404"} 1`);
    expect(text).not.toMatch(/route="\/orders\/[^:]/);
  });

  it('has buckets from 1 ms to 5 s', async () => {
    observeHttpRequest({ method: 'POST', routeTemplate: '/orders', statusCode: 202, durationSeconds: 7 });
    const text = await register.getSingleMetricAsString(HTTP_SERVER_DURATION);
    const bounds = [...text.matchAll(/le="([^"]+)"/g)].map((match) => match[1]);
    expect(bounds).toEqual([...HTTP_DURATION_BUCKETS.map(String), '+Inf']);
    expect(HTTP_DURATION_BUCKETS[0]).toBe(0.001);
    expect(HTTP_DURATION_BUCKETS.at(-1)).toBe(5);
    expect(text).toContain(`${HTTP_SERVER_DURATION}_bucket{le="5",method="POST",route="/orders",status_code="202"} 0`);
    expect(text).toContain(
      `${HTTP_SERVER_DURATION}_bucket{le="+Inf",method="POST",route="/orders",status_code="202"} 1`,
    );
  });
});

describe('collectProcessMetrics', () => {
  it('registers the process metrics once, however often it is called', async () => {
    collectProcessMetrics();
    collectProcessMetrics();
    expect(register.getSingleMetric('process_cpu_seconds_total')).toBeDefined();
    expect(await register.metrics()).toMatch(/^process_cpu_seconds_total \d/m);
  });
});
