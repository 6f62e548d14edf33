import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateAsyncApi } from './asyncapi';

/** Writes libs/contracts/asyncapi.yaml (run from the build output: dist/generate-asyncapi.js). */
export const ASYNCAPI_FILE = path.resolve(__dirname, '..', 'asyncapi.yaml');

writeFileSync(ASYNCAPI_FILE, generateAsyncApi());
process.stdout.write(`wrote ${path.relative(process.cwd(), ASYNCAPI_FILE)}\n`);
