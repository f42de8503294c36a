import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, processAlive } from '@spindle/testing';
import { SandboxFixture } from '../testing/sandbox-fixture';
import {
  AGENT_LEAF,
  controllersOf,
  delegate,
  emptyUnified,
  ownUnifiedPath,
  pidsIn,
  populated,
  undelegate,
  unifiedMount,
} from './cgroup-v2';
import { JobCgroups } from './cgroups';
import { DEFAULT_JOB_LIMITS } from './confinement';
import type { JobLimits } from './confinement';
import type { WorkerSandbox } from './worker-sandbox';

jest.setTimeout(60_000);

const LIMITS: JobLimits = { ...DEFAULT_JOB_LIMITS, memoryBytes: 128 * 1024 * 1024, processes: 64 };

// The unified hierarchy for real: needs root and a cgroup2 mount (/sys/fs/cgroup on a v2 host,
// /sys/fs/cgroup/unified on a hybrid one such as CI's); elsewhere the suite says why it does not run.
const mount = unifiedMount('/sys/fs/cgroup');
const ownPath = ownUnifiedPath(readFileSync('/proc/self/cgroup', 'utf8')) ?? undefined;
const unavailable =
  process.getuid?.() !== 0
    ? 'not root'
    : mount === null || ownPath === undefined
      ? 'no cgroup v2 (unified) hierarchy here'
      : null;
if (unavailable) console.warn(`cgroup-v2.int-spec: not run here: ${unavailable}`);
const describeWithV2 = unavailable ? describe.skip : describe;

// Which bounds the agent's cgroup has in the unified hierarchy here: the tests of the others are
// skipped, saying why.
const probe = unavailable ? null : JobCgroups.open(`probe-${process.pid}`, LIMITS);
const boundInV2 = {
  memory: typeof probe === 'object' && probe?.at('memory') === 'v2',
  pids: typeof probe === 'object' && probe?.at('pids') === 'v2',
};
if (typeof probe === 'object' && probe !== null) {
  for (const [controller, held] of Object.entries(boundInV2))
    if (!held)
      console.warn(
        `cgroup-v2.int-spec: its ${controller} test is not run here: no cgroup v2 ${controller} controller for the agent (${probe.describe()})`,
      );
  probe.close();
}

// An exec job that says which cgroup v2 it is in, and leaves a detached daemon holding its stdout
// and a process that forks on (only emptying its cgroup at once, cgroup.kill, ends it for sure).
const LEAVES_DAEMONS = `#!/bin/sh
setsid sleep 300 &
echo $! > "$PWD/../daemons"
setsid sh -c 'while :; do sleep 300 & sleep 0.05; done' > /dev/null 2>&1 < /dev/null &
echo $! >> "$PWD/../daemons"
echo "\\"$(grep '^0::' /proc/self/cgroup | cut -d: -f3)\\""
`;

const GREEDY_PY = `#!/usr/bin/env python3
chunk = b"x" * (400 * 1024 * 1024)
print(len(chunk))
`;

// Forks until the kernel refuses, and says how many children it has.
const FORKS_PY = `#!/usr/bin/env python3
import os, time
n = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    n += 1
print(n)
`;

describeWithV2('job processes in the unified hierarchy (cgroup v2)', () => {
  let fx: SandboxFixture;
  let cgroups: JobCgroups;
  let sandbox: WorkerSandbox;
  // A cgroup of the test's own under the process's, made and removed by each test that needs one.
  const scratch = () => join(mount!, ownPath!, `spindle-test-${process.pid}`);

  beforeAll(async () => {
    fx = await SandboxFixture.create('cgroup-v2', {
      'daemons.sh': LEAVES_DAEMONS,
      'greedy.py': GREEDY_PY,
      'forks.py': FORKS_PY,
    });
    cgroups = JobCgroups.open(`v2-${process.pid}`, LIMITS) as JobCgroups;
  });
  beforeEach(() => {
    sandbox = fx.sandbox({ users: null, cgroups, policy: { separateUsers: false, limits: LIMITS } });
  });
  afterEach(() => fx.stopAll());
  afterAll(() => {
    cgroups.close();
    fx.remove();
  });

  it("holds an exec job's processes in a cgroup v2 of its own and ends what it left behind with it, then removes it", async () => {
    expect(cgroups.directories[0]).toBe(join(mount!, ownPath!, `spindle-v2-${process.pid}`));
    const daemonsSh = fx.spec(sandbox, 'exec', 'daemons.sh');
    const { result } = await fx.run(sandbox, daemonsSh);
    // "/<the agent's cgroup>/spindle-<host>/task-<job>-<8>"
    expect(result).toEqual({
      outcome: 'succeeded',
      result: expect.stringMatching(new RegExp(`^${join(ownPath!, `spindle-v2-${process.pid}`)}/task-job-`)),
    });
    const cgroup = join(mount!, (result as { result: string }).result);
    const daemons = readFileSync(join(daemonsSh.workDir, '..', 'daemons'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);
    await eventually(async () => (!existsSync(cgroup) ? true : undefined), 5_000, 'its cgroup to go');
    // Killed, they wait for init to reap them.
    await eventually(
      async () => (!daemons.some(processAlive) ? true : undefined),
      5_000,
      'the daemons to end',
    );
    expect(daemons.filter(processAlive)).toEqual([]);
  });

  it('says at start where each bound holds on this host', () => {
    const described = cgroups.describe();
    expect(described).toMatch(new RegExp(`^processes in cgroup v2 ${cgroups.directories[0]}, emptied by `));
    for (const [controller, what] of [
      ['memory', 'memory 128 MiB'],
      ['pids', '64 processes'],
    ] as const) {
      const at = cgroups.at(controller);
      expect(described).toContain(at === null ? `${what}: NOT bounded (` : `${what}: cgroup ${at}`);
    }
  });

  // Kernels before 5.14 have no cgroup.kill: the cgroup is frozen, every process in it is sent
  // SIGKILL and it is thawed, so that none forks meanwhile.
  it('empties a cgroup of processes that fork on by freezing it, where the kernel has no cgroup.kill', async () => {
    mkdirSync(scratch());
    try {
      const bomb = spawn(
        '/bin/sh',
        [
          '-c',
          `echo $$ > ${join(scratch(), 'cgroup.procs')}; exec sh -c 'while :; do sleep 300 & sleep 0.01; done'`,
        ],
        { detached: true, stdio: 'ignore' },
      );
      bomb.unref();
      await eventually(async () => (pidsIn(scratch()).length > 20 ? true : undefined), 10_000, 'it to fork');
      expect(await emptyUnified(scratch(), 'freeze')).toBe(true);
      expect(populated(scratch())).toBe(false);
    } finally {
      rmdirSync(scratch());
    }
  });

  // The rule of cgroup v2 that a cgroup giving controllers to its children holds no processes
  // itself: as in a systemd service with Delegate=yes or a container, the agent's cgroup holds
  // processes, which move to a leaf first. hugetlb stands in for memory, pids and cpu: it is the
  // domain controller the hybrid CI host's unified hierarchy has. The test's cgroup stands in for
  // the agent's; it gets the controller from the test process's own, which must give it already
  // or be the root cgroup (exempt from the rule: it is enabled there for the test, and disabled
  // after).
  // `delegating(test)`: runs `test` with a process standing in for the agent in the test's cgroup
  // and a domain controller it can delegate, then ends the process and removes what is left.
  const delegating = (test: (agent: ChildProcess, controller: string) => Promise<void>) => async () => {
    const parent = join(mount!, ownPath!);
    const domain = ['hugetlb', 'memory', 'pids', 'io', 'cpu'];
    let controller = controllersOf(parent, 'cgroup.subtree_control').find((c) => domain.includes(c));
    const enableAtRoot = controller === undefined && ownPath === '/';
    if (enableAtRoot) controller = controllersOf(parent).find((c) => domain.includes(c));
    if (controller === undefined)
      return console.warn(`cgroup-v2.int-spec: no domain controller to delegate under ${parent} here`);
    if (enableAtRoot) delegate(parent, [controller]);
    mkdirSync(scratch());
    const agent = spawn('/bin/sh', ['-c', `echo $$ > ${join(scratch(), 'cgroup.procs')}; exec sleep 300`], {
      stdio: 'ignore',
    });
    try {
      await eventually(async () => (pidsIn(scratch()).length === 1 ? true : undefined), 5_000, 'it to enter');
      await test(agent, controller);
    } finally {
      agent.kill('SIGKILL');
      await eventually(async () => (!populated(scratch()) ? true : undefined), 5_000, 'it to end');
      for (const child of readdirSync(scratch(), { withFileTypes: true }))
        if (child.isDirectory()) rmdirSync(join(scratch(), child.name));
      writeFileSync(join(scratch(), 'cgroup.subtree_control'), '');
      rmdirSync(scratch());
      if (enableAtRoot) writeFileSync(join(parent, 'cgroup.subtree_control'), `-${controller}`);
    }
  };

  it(
    "moves the processes of the agent's cgroup to a leaf to give job cgroups a controller",
    delegating(async (agent, controller) => {
      expect(delegate(scratch(), [controller])).toEqual({ enabled: [controller], moved: 1 });
      expect(pidsIn(join(scratch(), AGENT_LEAF))).toEqual([agent.pid]);
      expect(controllersOf(scratch(), 'cgroup.subtree_control')).toContain(controller);
    }),
  );

  // At the agent's end (JobCgroups.close), once no agent's job cgroups are left beside the leaf.
  it(
    "gives the agent's cgroup back as it was: its processes back from the leaf, the leaf removed",
    delegating(async (agent, controller) => {
      delegate(scratch(), [controller]);
      expect(undelegate(scratch())).toBe(1);
      expect(pidsIn(scratch())).toEqual([agent.pid]);
      expect(existsSync(join(scratch(), AGENT_LEAF))).toBe(false);
      expect(controllersOf(scratch(), 'cgroup.subtree_control')).toEqual([]);
    }),
  );

  it(
    "leaves the leaf where another agent's job cgroups are still beside it",
    delegating(async (agent, controller) => {
      delegate(scratch(), [controller]);
      mkdirSync(join(scratch(), 'spindle-other-host'));
      expect(undelegate(scratch())).toBe(`${scratch()} has other child cgroups (spindle-other-host)`);
      expect(pidsIn(join(scratch(), AGENT_LEAF))).toEqual([agent.pid]);
      expect(controllersOf(scratch(), 'cgroup.subtree_control')).toContain(controller);
    }),
  );

  // Where the agent's cgroup is given memory and pids (a v2 host with Delegate=yes); CI's hybrid
  // host binds them to v1, so these are skipped there (cgroups.spec checks the files written).
  const withV2 = (controller: 'memory' | 'pids') => (boundInV2[controller] ? it : it.skip);

  withV2('memory')('ends an exec job that passes memory.max, saying so', async () => {
    const { result } = await fx.run(sandbox, fx.spec(sandbox, 'exec', 'greedy.py'));
    expect(result).toEqual({
      outcome: 'failed',
      error: 'killed: out of memory (it used more than its 128 MiB, SPINDLE_JOB_MAX_MEMORY_MB)',
    });
  });

  withV2('pids')('keeps a job to pids.max processes, itself included', async () => {
    const { result } = await fx.run(sandbox, fx.spec(sandbox, 'exec', 'forks.py'));
    expect(result).toEqual({ outcome: 'succeeded', result: LIMITS.processes - 1 });
  });
});
