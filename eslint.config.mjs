import nx from '@nx/eslint-plugin';

/**
 * Module boundaries (docs/style.md rule 5), enforced by @nx/enforce-module-boundaries
 * from each project's tags:
 * - an app never imports another app;
 * - a service imports only shared libs, never another service's code;
 * - platform libs import only platform libs and contracts, never apps;
 * - contracts import nothing of ours.
 */
const SERVICE_SCOPES = ['gateway', 'user', 'order', 'inventory', 'payment', 'payment-provider', 'chaos'];

/** Specs may also use libs/testing (waitFor, unique names, the test run's infrastructure). */
function boundaries({ inSpecs }) {
  const testing = inSpecs ? ['type:testing'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      banTransitiveDependencies: false,
      depConstraints: [
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
        { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', ...testing] },
        { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', ...testing] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing'] },
        {
          sourceTag: 'type:tooling',
          onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:testing', 'type:tooling'],
        },
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
        ...SERVICE_SCOPES.map((scope) => ({
          sourceTag: `scope:${scope}`,
          onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'],
        })),
      ],
    },
  ];
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/coverage', 'infra/kafka/target', '.nx', '.run'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ inSpecs: false }),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ inSpecs: true }) },
  },
  {
    // The stack's command line talks to the person at the terminal.
    files: ['infra/stack/**/*.ts', 'apps/chaos/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
];
