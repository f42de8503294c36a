import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '@spindle/contracts';
import { DEFAULT_JOB_USERS } from '@spindle/platform';
import { eventually, processAlive } from '@spindle/testing';
import { SandboxFixture } from '../testing/sandbox-fixture';
import { JobCgroups, jobCpuShares } from './cgroups';
import { DEFAULT_JOB_LIMITS } from './confinement';
import { JobUserPool } from './job-users';
import type { JobLimits } from './confinement';
import type { WorkerSandbox } from './worker-sandbox';
import type { TaskSpec } from './types';

jest.setTimeout(60_000);

const LIMITS: JobLimits = { ...DEFAULT_JOB_LIMITS, memoryBytes: 128 * 1024 * 1024, processes: 64 };

// cgroups need root and a cgroup hierarchy (CI has both: a hybrid host, v1 controllers beside the
// unified hierarchy); elsewhere this suite says why it does not run. Each test runs with the
// hierarchies the agent picks (`auto`: the unified one holds the processes where the host has it)
// and with the v1 hierarchies alone (`v1`), as on a host without the unified one.
const HIERARCHIES = (['auto', 'v1'] as const).filter((hierarchies) => {
  const probe = JobCgroups.open(`probe-${process.pid}`, LIMITS, { hierarchies });
  if (typeof probe === 'string') console.warn(`cgroups.int-spec (${hierarchies}): not run here: ${probe}`);
  else probe.close();
  return typeof probe !== 'string';
});
const describeWithCgroups =
  HIERARCHIES.length === 0 ? describe.skip.each(['auto' as const]) : describe.each(HIERARCHIES);

// The pids of every process of a user that still runs (a zombie has ended: it waits only for its
// parent, or init, to reap it).
function processesOf(uid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ...", comm may hold spaces and parentheses
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
        return statSync(`/proc/${pid}`).uid === uid && state !== 'Z';
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

// An exec job that leaves two processes behind: one detached with setsid that keeps the job's
// stdout (a pipe the agent reads until it closes), one in the background of its own group.
const LEAVES_DAEMONS = `#!/bin/sh
setsid sleep 300 &
echo $! > "$PWD/../daemons"
sleep 300 > /dev/null 2>&1 < /dev/null &
echo $! >> "$PWD/../daemons"
echo '"left two behind"'
`;

const GREEDY_PY = `#!/usr/bin/env python3
chunk = b"x" * (400 * 1024 * 1024)
print(len(chunk))
`;

const GREEDY_JS = `
exports.greedy = () => { const b = Buffer.alloc(400 * 1024 * 1024, 1); return b.length; };
exports.small = () => 'fine';
exports.daemon = () => {
  const { spawn } = require('node:child_process');
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' }); // detached: setsid()
  child.unref();
  return child.pid;
};
`;

describeWithCgroups('job processes in cgroups of their own (SPINDLE_JOB_CGROUPS=%s)', (hierarchies) => {
  let fx: SandboxFixture;
  let cgroups: JobCgroups;
  let sandbox: WorkerSandbox;

  beforeAll(async () => {
    fx = await SandboxFixture.create('cgroups', {
      'daemons.sh': LEAVES_DAEMONS,
      'greedy.py': GREEDY_PY,
      'greedy.js': GREEDY_JS,
    });
    cgroups = JobCgroups.open(`test-${process.pid}`, LIMITS, { hierarchies }) as JobCgroups;
  });

  // As the agent's own user: the job users' side is the one test that asks for them.
  beforeEach(() => {
    sandbox = fx.sandbox({ users: null, cgroups, policy: { separateUsers: false, limits: LIMITS } });
  });

  afterEach(() => fx.stopAll());
  afterAll(() => {
    cgroups.close();
    fx.remove();
  });

  const spec = (box: WorkerSandbox, runtime: Runtime, program: string, entrypoint = ''): TaskSpec =>
    fx.spec(box, runtime, program, entrypoint);

  // The cgroups its processes are in now, in every hierarchy, whose names start with `prefix`.
  const cgroupsNamed = (prefix: string): string[] =>
    cgroups.directories.flatMap((d) =>
      readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(prefix))
        .map((e) => e.name),
    );
  // Until the check holds (eventually throws, naming it, when it never does).
  const until = (check: () => boolean, what: string) =>
    eventually(async () => (check() ? true : undefined), 5_000, what);

  it('ends what an exec job leaves behind when it ends, also a setsid daemon holding its stdout, in a worker that goes on', async () => {
    const daemonsSh = spec(sandbox, 'exec', 'daemons.sh');
    const task = await sandbox.run(daemonsSh, { line: () => undefined });
    expect(await task.done).toEqual({ outcome: 'succeeded', result: 'left two behind' });
    const daemons = readFileSync(join(daemonsSh.workDir, '..', 'daemons'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);
    expect(daemons).toHaveLength(2);
    await until(() => !daemons.some(processAlive), 'the daemons to end');
    expect(daemons.filter(processAlive)).toEqual([]);
    // Its cgroup is gone with it; the worker runs its next job.
    await until(() => cgroupsNamed('task-').length === 0, 'the task cgroup to go');
    expect(cgroupsNamed('task-')).toEqual([]);
    const next = await sandbox.run(spec(sandbox, 'node', 'greedy.js', 'small'), { line: () => undefined });
    expect(await next.done).toEqual({ outcome: 'succeeded', result: 'fine' });
  });

  it("gives all of an agent's job processes together the CPU weight of one thread at their nice value", async () => {
    const cpu = cgroups.directories.find((d) => d.startsWith('/sys/fs/cgroup/cpu/'));
    if (!cpu) return console.warn('cgroups.int-spec: this host has no cgroup v1 cpu hierarchy'); // nice alone
    const script = join(fx.artifacts, 'cpu-cgroup.sh');
    // Its session's weight (autogroup, where the kernel has it), then its cgroup in the cpu
    // hierarchy ("1:cpu:/path" or "3:cpu,cpuacct:/path").
    writeFileSync(
      script,
      "#!/bin/sh\ncat /proc/self/autogroup\ngrep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/self/cgroup | cut -d: -f3\n",
      { mode: 0o755 },
    );
    const lines: string[] = [];
    const task = await sandbox.run(spec(sandbox, 'exec', 'cpu-cgroup.sh'), {
      line: (_, text) => lines.push(text),
    });
    const done = await task.done;
    expect(done).toEqual({ outcome: 'succeeded', result: expect.stringMatching(/\/task-job-/) });
    const own = join('/sys/fs/cgroup/cpu', (done as { result: string }).result);
    expect(join(own, '..')).toBe(cpu);
    expect(readFileSync(join(cpu, 'cpu.shares'), 'utf8').trim()).toBe(String(jobCpuShares(10)));
    expect(jobCpuShares(10)).toBe(110); // the kernel's weight of nice 10; nice 0 weighs 1024
    if (existsSync('/proc/self/autogroup')) expect(lines[0]).toMatch(/^\/autogroup-\d+ nice 10$/);
  });

  it('ends an exec job that uses more memory than its limit, saying so', async () => {
    const task = await sandbox.run(spec(sandbox, 'exec', 'greedy.py'), { line: () => undefined });
    expect(await task.done).toEqual({
      outcome: 'failed',
      error: 'killed: out of memory (it used more than its 128 MiB, SPINDLE_JOB_MAX_MEMORY_MB)',
    });
  });

  it("fails the tasks of a runner that passes its limit, saying so, and the worker's next task gets a fresh one", async () => {
    const greedy = await sandbox.run(spec(sandbox, 'node', 'greedy.js', 'greedy'), { line: () => undefined });
    expect(await greedy.done).toEqual({
      outcome: 'failed',
      error: expect.stringMatching(
        /^the node runner \(pid \d+\) was killed: out of memory \(it used more than its 128 MiB, SPINDLE_JOB_MAX_MEMORY_MB\)$/,
      ),
    });
    const next = await sandbox.run(spec(sandbox, 'node', 'greedy.js', 'small'), { line: () => undefined });
    expect(await next.done).toEqual({ outcome: 'succeeded', result: 'fine' });
    expect(next.pid).not.toBe(greedy.pid);
  });

  // A runner's task may leave a daemon that outlives the task (its runner goes on): the worker's
  // stop ends it. With job users, the user goes back to the pool only once it has no process left,
  // and with cgroups that is known without sweeping the user's processes (JobUserPool).
  it("ends a runner task's setsid daemon when the worker stops, before its job user goes back to the pool", async () => {
    const pool = new JobUserPool(DEFAULT_JOB_USERS);
    const confined = fx.sandbox({ users: pool, cgroups, policy: { limits: LIMITS } });
    let user: number;
    try {
      const task = await confined.run(spec(confined, 'node', 'greedy.js', 'daemon'), {
        line: () => undefined,
      });
      const result = await task.done;
      expect(result).toEqual({ outcome: 'succeeded', result: expect.any(Number) });
      const daemon = (result as { result: number }).result;
      expect(processAlive(daemon)).toBe(true);
      user = statSync(`/proc/${daemon}`).uid;
      expect(processesOf(user)).toContain(daemon);
    } finally {
      await confined.stop();
    }
    // At once, not eventually: the user is free for the next worker now.
    expect(processesOf(user)).toEqual([]);
    expect(cgroupsNamed('runner-node-').length).toBeLessThanOrEqual(1); // this test's own sandbox's
  });

  it('removes every cgroup it made once its worker stopped', async () => {
    const task = await sandbox.run(spec(sandbox, 'node', 'greedy.js', 'small'), { line: () => undefined });
    await task.done;
    // One in each hierarchy (the unified one, memory, pids, and cpu where the host has them).
    const count = cgroups.directories.length;
    await until(() => cgroupsNamed('').length === count, "earlier workers' cgroups to go");
    expect(cgroupsNamed('')).toEqual(Array(count).fill(expect.stringMatching(/^runner-node-/)));
    await sandbox.stop();
    await until(() => cgroupsNamed('').length === 0, 'every cgroup to go');
    expect(cgroupsNamed('')).toEqual([]);
  });
});
