import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GlobalConfig, ProjectConfig } from 'jest';

// Global setup of the integration project only (unit runs start nothing): the brokers and the
// databases the suites need, started by tools/test-infra when they are not already up. Every jest
// worker that runs integration suites gets a broker and a database server of its own
// (tools/jest/integration-environment.ts picks them by JEST_WORKER_ID).
const INFRA = Symbol.for('spindle.test-infra'); // read by the global teardown
type WithInfra = typeof globalThis & { [INFRA]?: ChildProcess };

export default async function setup(globalConfig: GlobalConfig, projectConfig: ProjectConfig): Promise<void> {
  const root = join(__dirname, '..', '..');
  const workers = integrationWorkers(globalConfig, projectConfig);
  // A process of its own, compiled like `npm start` (with the @spindle/* aliases).
  const child = fork(join(root, 'tools', 'test-infra', 'test-infra.ts'), [], {
    cwd: root,
    env: { ...process.env, SPINDLE_TEST_WORKERS: String(workers) },
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const env = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('message', (m: { env: Record<string, string> }) => resolve(m.env));
    child.once('exit', (code) => {
      const e = new Error(`the test infrastructure did not start (exit code ${code}; the cause is above)`);
      e.stack = e.message; // the cause is already printed, in one line
      reject(e);
    });
  });
  Object.assign(process.env, env);
  (globalThis as WithInfra)[INFRA] = child;
}

// As many as jest's workers (--maxWorkers; 1 with --runInBand), or 1 when the path patterns select
// a single integration suite (it cannot run beside another), so that `npx jest one.int-spec.ts`
// starts one broker, not two.
function integrationWorkers(globalConfig: GlobalConfig, projectConfig: ProjectConfig): number {
  const max = Math.max(1, globalConfig.maxWorkers);
  if (max === 1 || !globalConfig.testPathPatterns.isSet()) return max;
  const matches = globalConfig.testPathPatterns.toExecutor({ rootDir: projectConfig.rootDir });
  const selected = integrationSuites(projectConfig.rootDir).filter((path) => matches.isMatch(path));
  return selected.length <= 1 ? 1 : max;
}

function integrationSuites(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(int|e2e)-spec\.ts$/.test(entry.name)) found.push(path);
    }
  };
  for (const top of ['apps', 'libs', 'test']) walk(join(root, top));
  return found;
}
