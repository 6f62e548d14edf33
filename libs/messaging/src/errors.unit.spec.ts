import { InvalidMessageError } from '@shop/contracts';
import { classifyError, PermanentError, TransientError } from './errors';

/** Errors shaped like the ones pg, pg-pool, Node's sockets and opossum throw. */
function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyError', () => {
  it('dead-letters a PermanentError and an InvalidMessageError at once, with their reason', () => {
    expect(classifyError(new PermanentError('order does not exist'))).toEqual({
      kind: 'permanent',
      reason: 'permanent-error',
    });
    expect(classifyError(new InvalidMessageError('invalid-payload', 'x'))).toEqual({
      kind: 'permanent',
      reason: 'invalid-payload',
    });
  });

  it('treats a TransientError and a dependency that is down as transient', () => {
    expect(classifyError(new TransientError('database is down'))).toEqual({ kind: 'transient' });
    expect(classifyError(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toEqual({
      kind: 'transient',
    });
    expect(classifyError(withCode('terminating connection due to administrator command', '57P01'))).toEqual({
      kind: 'transient',
    });
    expect(classifyError(withCode('connection failure', '08006'))).toEqual({ kind: 'transient' });
    expect(classifyError(new Error('Connection terminated unexpectedly'))).toEqual({ kind: 'transient' });
    expect(classifyError(new Error('timeout exceeded when trying to connect'))).toEqual({ kind: 'transient' });
    expect(classifyError(withCode('Breaker is open', 'EOPENBREAKER'))).toEqual({ kind: 'transient' });
    expect(classifyError(Object.assign(new Error('payment: breaker is open'), { name: 'BreakerOpenError' }))).toEqual({
      kind: 'transient',
    });
  });

  it('looks through causes and aggregate errors (Node reports a dual-stack refusal as an AggregateError)', () => {
    const refused = new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed');
    expect(classifyError(refused)).toEqual({ kind: 'transient' });
    expect(classifyError(new Error('saving the order failed', { cause: new TransientError('db') }))).toEqual({
      kind: 'transient',
    });
  });

  it('retries anything else a bounded number of times', () => {
    expect(classifyError(new Error('boom'))).toEqual({ kind: 'retryable' });
    expect(classifyError(withCode('duplicate key value violates unique constraint', '23505'))).toEqual({
      kind: 'retryable',
    });
    expect(classifyError('a string')).toEqual({ kind: 'retryable' });
    expect(classifyError(undefined)).toEqual({ kind: 'retryable' });
  });
});
