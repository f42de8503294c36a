import type { Config } from 'jest';
import { readFileSync } from 'node:fs';

// Map the tsconfig path aliases (@spindle/*) for Jest.
const { compilerOptions } = JSON.parse(readFileSync(`${__dirname}/tsconfig.base.json`, 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};
const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);
const swcrc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8')) as Record<string, unknown>;
const transform: Config['transform'] = { '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }] };

const common = {
  rootDir: __dirname,
  moduleNameMapper,
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

// Tiers by suffix: *.spec.ts are pure; *.int-spec.ts and *.e2e-spec.ts talk to the real Kafka,
// Postgres and S3. Two files run at a time (SPINDLE_TEST_WORKERS, default 2; the README's Tests
// section has the run that made it the default): every worker has a Kafka broker and a PostgreSQL
// server of its own (tools/jest/integration-environment.ts; the S3 server is shared, every suite
// uses buckets of its own), and the longest suites start first (tools/jest/sequencer.cjs).
const config: Config = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      slowTestThreshold: 30,
      testEnvironment: '<rootDir>/tools/jest/integration-environment.ts',
      // Starts the brokers and the databases when they are not up, and stops what it started.
      globalSetup: '<rootDir>/tools/jest/test-infrastructure.setup.ts',
      globalTeardown: '<rootDir>/tools/jest/test-infrastructure.teardown.ts',
    },
  ],
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.cjs'],
  testSequencer: '<rootDir>/tools/jest/sequencer.cjs',
  maxWorkers: Number(process.env['SPINDLE_TEST_WORKERS'] ?? 2),
  verbose: true,
  testTimeout: 60_000,
};

export default config;
