import { HttpException } from '@nestjs/common';
import { BreakerOpenError, CallFailedError } from '@shop/resilience';
import { answerFor, unavailableProblem } from './upstream-reply';
import type { UpstreamResponse } from './upstream';

const PRODUCT = { sku: 'MUG-001', name: 'Enamel camping mug', priceCents: 1200, currency: 'EUR', available: 3 };
const fresh = (value: UpstreamResponse) => ({ value, stale: false as const });

describe('answerFor', () => {
  it('passes a 2xx on as JSON, with the headers a client may see and no cache marks', () => {
    const answer = answerFor(fresh({ status: 202, headers: { location: '/api/v1/orders/1' }, body: PRODUCT }), '/x');

    expect(answer).toEqual({
      status: 202,
      headers: { location: '/api/v1/orders/1', 'content-type': 'application/json' },
      body: PRODUCT,
    });
  });

  it('marks an answer from the fallback cache with `x-cache: stale` and its age in seconds', () => {
    const answer = answerFor(
      { value: { status: 200, headers: {}, body: PRODUCT }, stale: true, ageSeconds: 42 },
      '/api/v1/products/MUG-001',
    );

    expect(answer.headers).toEqual({ 'x-cache': 'stale', age: '42', 'content-type': 'application/json' });
    expect(answer.body).toEqual(PRODUCT);
  });

  it('keeps a service’s problem document, with `instance` set to the path the client asked for', () => {
    const problem = {
      type: 'https://shop.example/problems/email-already-registered',
      title: 'email already registered',
      status: 409,
      detail: 'an account with this email exists',
      instance: '/auth/register',
    };

    const answer = answerFor(fresh({ status: 409, headers: {}, body: problem }), '/api/v1/auth/register');

    expect(answer.status).toBe(409);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toEqual({ ...problem, instance: '/api/v1/auth/register' });
  });

  it('turns a 4xx without a problem document into a plain problem of that status', () => {
    const answer = answerFor(fresh({ status: 404, headers: {}, body: { message: 'no' } }), '/api/v1/me');

    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toEqual({
      type: 'https://shop.example/problems/not-found',
      title: 'not found',
      status: 404,
      instance: '/api/v1/me',
    });
  });
});

describe('unavailableProblem', () => {
  it('maps a failed policy call to 503 with the policy’s Retry-After, naming only the service', () => {
    const open = unavailableProblem(new BreakerOpenError('inventory-service', 7), 'inventory-service');
    expect(open?.retryAfterSeconds).toBe(7);
    expect(open?.error).toBeInstanceOf(HttpException);
    expect((open?.error as HttpException).getStatus()).toBe(503);

    const failed = unavailableProblem(
      new CallFailedError('inventory-service', new Error('connect ECONNREFUSED 127.0.0.1:3003')),
      'inventory-service',
    );
    expect(failed?.retryAfterSeconds).toBe(1);
    // The cause (with its address) stays in the log; the client gets the service's name only.
    expect((failed?.error as HttpException).getResponse()).toEqual({
      type: 'https://shop.example/problems/service-unavailable',
      title: 'service unavailable',
      status: 503,
      detail: 'inventory-service is unavailable; try again later',
    });
  });

  it('leaves any other error alone (it is a bug, answered with a bare 500)', () => {
    expect(unavailableProblem(new TypeError('boom'), 'inventory-service')).toBeUndefined();
  });
});
