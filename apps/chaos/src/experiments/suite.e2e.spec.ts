import { runCommand } from './experiments.command';

/**
 * The short chaos suite of `npm test`: three experiments of chaos/experiments
 * against the test stack, through the same runner as `npm run chaos -- run`.
 * Each passes only if the steady state holds before and after, its method
 * probes hold during the fault, and the audit finds no violation of the five
 * invariants over every order it placed. The stack comes from the test run's
 * environment (STACK_ID, STACK_PORT_BLOCK, the apps' URLs, the tokens).
 */
const SUITE = [
  // A process dies mid-charge and the supervisor restarts it.
  'payment-service-kill',
  // A dependency answers, but mostly no: declines are compensated, nothing is retried into a charge.
  'decline-storm',
  // A service freezes: reads fall back to the stale cache, orders wait and complete.
  'inventory-paused',
];

describe('chaos suite (e2e, experiments against the test stack)', () => {
  beforeAll(() => {
    if (!process.env['STACK_ID'] || !process.env['GATEWAY_URL']) {
      throw new Error('run the chaos suite through `npm test` (it needs the test stack)');
    }
  });

  it.each(SUITE)(
    '%s: the hypothesis holds and no invariant is broken',
    async (experiment) => {
      expect(await runCommand([experiment])).toBe(0);
    },
    360_000,
  );
});
