import { TestEnvironment } from 'jest-environment-node';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';

// The test environment of the integration project: Node's, in a worker pointed at the broker and
// the database (on a server of its own) that tools/test-infra made for it (SPINDLE_TEST_WORKER_ENV, by
// JEST_WORKER_ID; 1 when jest runs in band). Set on the worker's real process.env before the
// suite's sandbox copies it, so that child processes the suites spawn inherit them as well.
export default class IntegrationEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    const perWorker = process.env['SPINDLE_TEST_WORKER_ENV'];
    if (perWorker) {
      const all = JSON.parse(perWorker) as Record<string, Record<string, string>>;
      const worker = process.env['JEST_WORKER_ID'] ?? '1';
      // One set for the run when it has a single integration suite, on whichever worker.
      const env = all[worker] ?? (Object.keys(all).length === 1 ? all['1'] : undefined);
      if (!env) throw new Error(`jest worker ${worker} has no broker and database of its own`);
      Object.assign(process.env, env);
    }
    super(config, context);
  }
}
