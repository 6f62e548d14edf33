import { randomBytes } from 'node:crypto';

/** The stack id the test run set up (npm test exports STACK_ID), or "test". */
export function testStackId(): string {
  return process.env['STACK_ID'] ?? 'test';
}

/** A name no other test (or test run) uses: for topics, groups and databases. */
export function uniqueName(prefix: string): string {
  return `${testStackId()}_${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
}
