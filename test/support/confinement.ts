import { chmod } from 'node:fs/promises';
import { DEFAULT_JOB_USERS } from '@spindle/platform';
import { DEFAULT_JOB_LIMITS, FileSystemView, JobCgroups, JobUserPool } from '@spindle/worker';
import type { HostConfinement } from '@spindle/worker';

// What a worker agent running as root confines job processes with (job users, cgroups where the
// host has them, the read-only view), for suites that drive the MapReduce engine without an agent.
// `dir` holds the suite's programs and work directories: opened for traversal as the agent opens
// its job tree, and kept visible in the view. Not root: null, and the programs run as the test's
// own user, as an agent's would there (`why` says so).
export async function agentConfinement(
  name: string,
  dir: string,
): Promise<{ confinement: HostConfinement | null; why: string | null; close(): void }> {
  if (!JobUserPool.available())
    return { confinement: null, why: 'not root: no job users', close: () => undefined };
  await chmod(dir, 0o711);
  const cgroups = JobCgroups.open(`${name}-${process.pid}`, DEFAULT_JOB_LIMITS);
  const view = FileSystemView.open('auto', [dir]);
  return {
    confinement: {
      policy: { separateUsers: true, network: true, limits: DEFAULT_JOB_LIMITS },
      users: new JobUserPool(DEFAULT_JOB_USERS),
      cgroups: typeof cgroups === 'string' ? null : cgroups,
      view: typeof view === 'string' ? null : view,
    },
    why: null,
    close: () => {
      if (typeof cgroups !== 'string') cgroups.close();
      if (typeof view !== 'string') view.close();
    },
  };
}
