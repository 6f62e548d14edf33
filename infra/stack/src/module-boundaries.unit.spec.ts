import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createProjectGraphAsync } from '@nx/devkit';
import { root } from './paths.ts';

/**
 * docs/style.md rule 5 is enforced by lint, not hoped for: these imports must fail
 * @nx/enforce-module-boundaries, and a legal one must pass.
 */
const RULE = '@nx/enforce-module-boundaries';

/** Runs the ESLint CLI on `code` as if it were `file`, the way `nx lint` does. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const eslint = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', file, '--format', 'json'],
    { cwd: root, input: code, encoding: 'utf8' },
  );
  const [result] = JSON.parse(eslint.stdout) as Array<{ messages: Array<{ ruleId: string | null; message: string }> }>;
  const errors = (result?.messages ?? [])
    .filter((message) => message.ruleId === RULE)
    .map((message) => message.message);
  // The CLI's exit code is what fails CI: it must agree with the messages.
  expect(eslint.status).toBe(errors.length > 0 ? 1 : 0);
  return errors;
}

beforeAll(async () => {
  await createProjectGraphAsync({ exitOnError: false });
}, 120_000);

describe('module boundaries', () => {
  it('refuses an app importing another app by relative path', async () => {
    const errors = await boundaryErrors(
      'apps/order-service/src/probe.ts',
      "import { AppModule } from '../../inventory-service/src/app.module';\nexport const probe = AppModule;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('refuses an app importing another app by package name', async () => {
    const errors = await boundaryErrors(
      'apps/order-service/src/probe.ts',
      "import { loadServiceConfig } from '@shop/payment-service';\nexport const probe = loadServiceConfig;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('refuses a platform lib importing an app', async () => {
    const errors = await boundaryErrors(
      'libs/messaging/src/probe.ts',
      "import { loadServiceConfig } from '@shop/order-service';\nexport const probe = loadServiceConfig;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('refuses contracts importing a platform lib', async () => {
    const errors = await boundaryErrors(
      'libs/contracts/src/probe.ts',
      "import { loadConfig } from '@shop/health';\nexport const probe = loadConfig;\n",
    );
    expect(errors).toEqual([expect.stringContaining('type:contracts')]);
  });

  it('allows a service importing contracts and platform libs', async () => {
    const errors = await boundaryErrors(
      'apps/order-service/src/probe.ts',
      "import { TOPICS } from '@shop/contracts';\nimport { createKafka } from '@shop/messaging';\nexport const probe = [TOPICS, createKafka];\n",
    );
    expect(errors).toEqual([]);
  });
});
