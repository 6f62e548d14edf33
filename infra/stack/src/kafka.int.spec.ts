import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureFormatted, kafkaPaths } from './kafka.ts';
import { livePid } from './processes.ts';
import { stackFor } from './stack.ts';

/** What a run killed at the wrong moment leaves behind is handled by the next one. */
describe('leftovers of a killed run', () => {
  // Block 5 is never used by npm start or npm test's first blocks; nothing is started here.
  const stack = stackFor('leftovers', 5);
  const paths = kafkaPaths(stack);

  afterAll(() => rmSync(paths.dataDir, { recursive: true, force: true }));

  it('wipes and formats again a Kafka data folder whose formatting did not finish', async () => {
    rmSync(paths.dataDir, { recursive: true, force: true });
    mkdirSync(paths.logDir, { recursive: true });
    writeFileSync(path.join(paths.logDir, 'half-written'), 'partial');

    await ensureFormatted(stack);

    expect(existsSync(path.join(paths.logDir, 'half-written'))).toBe(false);
    expect(existsSync(path.join(paths.logDir, 'meta.properties'))).toBe(true);
    expect(existsSync(path.join(paths.dataDir, '.formatted'))).toBe(true);
  }, 60_000);

  it('keeps a folder that finished formatting', async () => {
    const kept = path.join(paths.logDir, 'topic-0');
    mkdirSync(kept, { recursive: true });
    await ensureFormatted(stack);
    expect(existsSync(kept)).toBe(true);
  });

  it('ignores a pid file whose process is gone or is not ours', () => {
    const pidFile = path.join(paths.dataDir, 'kafka.pid');
    writeFileSync(pidFile, `${process.pid}\n`);
    expect(livePid(pidFile, 'kafka.Kafka')).toBeUndefined();
    expect(livePid(pidFile, process.argv[1] ?? 'node')).toBe(process.pid);
    writeFileSync(pidFile, '2147483646\n');
    expect(livePid(pidFile, 'kafka.Kafka')).toBeUndefined();
  });
});
