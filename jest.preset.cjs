// One jest setup for every project: SWC strips types (with the decorator
// metadata NestJS needs), so tests start fast; types are checked once, by
// `tsc -b` and tsconfig.spec.json, not per test file.
const path = require('node:path');

const root = __dirname;

/** @param {string} projectDir @returns {import('jest').Config} */
module.exports = function jestConfig(projectDir) {
  return {
    displayName: path.relative(root, projectDir),
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true },
            target: 'es2023',
          },
          module: { type: 'commonjs' },
          sourceMaps: 'inline',
        },
      ],
      '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
    },
    // jose ships only ES modules; jest loads CommonJS, so its files go through SWC like ours.
    transformIgnorePatterns: ['/node_modules/(?!jose/)'],
    moduleFileExtensions: ['ts', 'js', 'json'],
    // Tests run against the sources of the libs, not their build output.
    moduleNameMapper: { '^@shop/([a-z-]+)$': `${root}/libs/$1/src/index.ts` },
    testTimeout: 60_000,
  };
};
