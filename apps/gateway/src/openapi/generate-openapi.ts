import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { openApiDocument } from './openapi';

/** Writes apps/gateway/openapi.json (run from the build output: dist/openapi/generate-openapi.js). */
export const OPENAPI_FILE = path.resolve(__dirname, '..', '..', 'openapi.json');

async function main(): Promise<void> {
  // Formatted as the repository's Prettier would, so `prettier --check` passes on the generated file.
  const options = (await resolveConfig(OPENAPI_FILE)) ?? {};
  const text = await format(JSON.stringify(openApiDocument()), { ...options, parser: 'json' });
  writeFileSync(OPENAPI_FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
