import { PROGRAMS } from '../fixtures/programs';
import { createContext, registerFunction, upload } from './jobs';
import { spindleSuite } from './spindle-suite';
import type { SpindleSuite } from './spindle-suite';

// A Spindle for the jobs API suites: the fixture programs uploaded, the contexts and functions
// they run jobs of registered before the first test.
export function jobsSuite(env: Record<string, string>): SpindleSuite {
  const suite = spindleSuite({ name: 'jobs', env });
  beforeAll(async () => {
    const url = suite.url;
    for (const [name, content] of Object.entries(PROGRAMS)) await upload(url, name, content);
    await createContext(url, 'shared2', { workerMode: 'shared', maxJobs: 2 });
    await createContext(url, 'exclusive2', { workerMode: 'exclusive', maxJobs: 2 });
    await createContext(url, 'wide', { workerMode: 'shared', maxJobs: 30 });
    await registerFunction(url, 'sum', 'sum.js', 'node', 'sum');
    await registerFunction(url, 'pysum', 'sum.py', 'python', 'sum');
    await registerFunction(url, 'shsum', 'sum.sh', 'exec');
    await registerFunction(url, 'pid', 'tools.js', 'node', 'pid');
    await registerFunction(url, 'sleep', 'tools.js', 'node', 'sleep');
    await registerFunction(url, 'lines', 'tools.js', 'node', 'lines');
    await registerFunction(url, 'fail', 'tools.js', 'node', 'fail');
  });
  return suite;
}
