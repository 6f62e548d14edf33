import {
  BreakerOpenError,
  BulkheadRejectedError,
  CallFailedError,
  CallTimeoutError,
  ResilienceError,
  serviceUnavailable,
} from './errors';

describe('serviceUnavailable', () => {
  it('turns every policy failure into 503 with its Retry-After', () => {
    expect(serviceUnavailable(new BreakerOpenError('inventory', 7))).toEqual({ status: 503, retryAfterSeconds: 7 });
    expect(serviceUnavailable(new BulkheadRejectedError('inventory'))).toEqual({ status: 503, retryAfterSeconds: 1 });
    expect(serviceUnavailable(new CallTimeoutError('inventory', 500))).toEqual({ status: 503, retryAfterSeconds: 1 });
    expect(serviceUnavailable(new CallFailedError('inventory', new Error('ECONNREFUSED')))).toEqual({
      status: 503,
      retryAfterSeconds: 1,
    });
  });

  it('leaves any other error to the caller', () => {
    expect(serviceUnavailable(new Error('bug'))).toBeUndefined();
    expect(serviceUnavailable('not even an error')).toBeUndefined();
  });
});

describe('policy errors', () => {
  it('name the policy and keep the original failure as the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new CallFailedError('inventory', cause);
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error.name).toBe('CallFailedError');
    expect(error.policy).toBe('inventory');
    expect(error.message).toBe('inventory: call failed: ECONNREFUSED');
    expect(error.cause).toBe(cause);
  });
});
