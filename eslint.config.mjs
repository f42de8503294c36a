// @ts-check
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// Nx boundaries between layers and between bounded contexts.
const depConstraints = [
  // Layers: an app composes shells and features; features use data access, utilities and contracts.
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:shell',
      'type:feature',
      'type:data-access',
      'type:util',
      'type:contracts',
      'type:testing',
    ],
  },
  {
    sourceTag: 'type:shell',
    onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'],
  },
  {
    sourceTag: 'type:feature',
    onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts'],
  },
  {
    sourceTag: 'type:data-access',
    onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts', 'type:testing'],
  },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  // Bounded contexts: another context is reached only through shared contracts and
  // libraries; the gateway may read the projector's read models.
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:scheduler', onlyDependOnLibsWithTags: ['scope:shared', 'scope:scheduler'] },
  { sourceTag: 'scope:projector', onlyDependOnLibsWithTags: ['scope:shared', 'scope:projector'] },
  {
    sourceTag: 'scope:gateway',
    onlyDependOnLibsWithTags: ['scope:shared', 'scope:gateway', 'scope:projector'],
  },
  {
    sourceTag: 'scope:artifact-store',
    onlyDependOnLibsWithTags: ['scope:shared', 'scope:artifact-store'],
  },
  {
    sourceTag: 'scope:log-collector',
    onlyDependOnLibsWithTags: ['scope:shared', 'scope:log-collector'],
  },
  { sourceTag: 'scope:secrets', onlyDependOnLibsWithTags: ['scope:shared', 'scope:secrets'] },
  { sourceTag: 'scope:worker', onlyDependOnLibsWithTags: ['scope:shared', 'scope:worker'] },
  { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: ['*'] },
];
// Tests of any layer may use the testing library (throwaway databases, the real broker).
const testDepConstraints = depConstraints.map((c) =>
  c.onlyDependOnLibsWithTags && c.sourceTag.startsWith('type:')
    ? { ...c, onlyDependOnLibsWithTags: [...new Set([...c.onlyDependOnLibsWithTags, 'type:testing'])] }
    : c,
);

// Compiler and linter as reviewers: typed rules, and Nx boundaries between bounded contexts.
export default tseslint.config(
  {
    ignores: [
      '**/node_modules',
      '**/dist',
      '.nx',
      '.kafka',
      '.s3',
      '.spindle',
      'coverage',
      'bench/results',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints,
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest and TypeORM take classes as values (`Function` types in their APIs).
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Framework interfaces (Nest lifecycle hooks, bus ports) are async by contract.
      '@typescript-eslint/require-await': 'off',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'class-validator',
              importNames: ['IsOptional'],
              message:
                'Use IsOmittable from @spindle/platform: IsOptional skips null too, and a null then reaches code that expects a value.',
            },
          ],
          patterns: [
            {
              group: ['../../*/src/*', '../../../libs/*'],
              message: 'Import another project through its @spindle/* alias.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', '**/src/testing/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: testDepConstraints },
      ],
      // Tests poke at JSON bodies; strict unsafe-any rules would only add casts.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
