/**
 * The chaos toolkit's command line (`npm run chaos -- <command>`). The load
 * generator, the experiments and the invariant auditor arrive with the chaos
 * work; this entry point and its usage text are the skeleton they plug into.
 */
const USAGE = `usage: npm run chaos -- <command>

commands:
  run <experiment>   steady state, load and faults, recovery, audit
  audit              check the business invariants of docs/contract.md
  help               this text
`;

export function main(argv: readonly string[]): number {
  const [command = 'help'] = argv;
  if (command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(`chaos: "${command}" is not available yet\n${USAGE}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
