import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_JOB_LIMITS } from './confinement';
import { JobCgroups, jobCpuShares, jobCpuWeight } from './cgroups';

// The files JobCgroups writes on a cgroup v2 host whose agent's cgroup is given memory, pids and
// cpu (a systemd service with Delegate=yes). The development and CI hosts are hybrid: their unified
// hierarchy has no such controller (they are bound to v1), so there these writes cannot be made
// for real; a temporary directory stands in for /sys/fs/cgroup, laid out as the kernel lays it
// out, and the suite checks what is written where. (cgroups.int-spec runs the real thing, and its
// v2 memory test where the host has a v2 memory controller.)
describe('job cgroups on a cgroup v2 host (a directory standing in for /sys/fs/cgroup)', () => {
  let root: string;
  const limits = { ...DEFAULT_JOB_LIMITS, memoryBytes: 128 * 1024 * 1024, processes: 64, nice: 10 };
  const agent = () => join(root, 'system.slice', 'spindle.service');
  const jobs = () => join(agent(), 'spindle-h1');

  // A cgroup as the kernel shows it: what its parent gives it, what it gives its children, and
  // the files of the controllers it has.
  function cgroup(dir: string, controllers: string, files: string[]): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.controllers'), `${controllers}\n`);
    writeFileSync(join(dir, 'cgroup.subtree_control'), '\n');
    writeFileSync(join(dir, 'cgroup.procs'), '');
    for (const file of files) writeFileSync(join(dir, file), '');
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'spindle-cgroup-v2-'));
    cgroup(root, 'cpuset cpu io memory hugetlb pids', []);
    writeFileSync(join(root, 'own-cgroup'), '0::/system.slice/spindle.service\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const open = (controllers: string) => {
    const files = ['cgroup.kill', 'cgroup.events', 'memory.swap.max'];
    cgroup(agent(), controllers, files);
    cgroup(jobs(), controllers, [...files, 'cpu.weight']);
    return JobCgroups.open('h1', limits, { root, ownCgroups: join(root, 'own-cgroup'), uid: 0 });
  };

  it('bounds every job process in the unified hierarchy: memory.max without swap, pids.max, and cpu.weight on the parent of all', () => {
    const cgroups = open('cpu memory pids');
    if (typeof cgroups === 'string') throw new Error(cgroups);
    const task = cgroups.create('task-j1');
    expect(cgroups.directories).toEqual([jobs()]);
    expect(task.procs).toEqual([join(jobs(), 'task-j1', 'cgroup.procs')]);
    expect(readFileSync(join(jobs(), 'task-j1', 'memory.max'), 'utf8')).toBe(String(128 * 1024 * 1024));
    expect(readFileSync(join(jobs(), 'task-j1', 'memory.swap.max'), 'utf8')).toBe('0');
    expect(readFileSync(join(jobs(), 'task-j1', 'pids.max'), 'utf8')).toBe('64');
    expect(readFileSync(join(jobs(), 'cpu.weight'), 'utf8')).toBe('11');
    expect(['memory', 'pids', 'cpu'].map((c) => cgroups.at(c as 'memory'))).toEqual(['v2', 'v2', 'v2']);
    expect(cgroups.describe()).toBe(
      `processes in cgroup v2 ${jobs()}, emptied by cgroup.kill; memory 128 MiB: cgroup v2; 64 processes: cgroup v2; CPU weight 11 (cpu.weight): cgroup v2`,
    );
  });

  it('says which bounds do not hold when the agent is not given their controllers, and sets the others', () => {
    const cgroups = open('pids');
    if (typeof cgroups === 'string') throw new Error(cgroups);
    cgroups.create('task-j2');
    expect(readFileSync(join(jobs(), 'task-j2', 'pids.max'), 'utf8')).toBe('64');
    expect(cgroups.at('memory')).toBeNull();
    expect(cgroups.describe()).toContain(
      `memory 128 MiB: NOT bounded (not given to the agent's cgroup v2 ${agent()} (its cgroup.controllers: pids); no cgroup v1 memory hierarchy at ${join(root, 'memory')})`,
    );
  });

  // Once its processes moved to the leaf, the agent's own cgroup is the leaf's parent: opened
  // again, the job cgroups go beside the leaf, not under it.
  it("makes the job cgroups beside the leaf the agent's processes moved to, when opened again", () => {
    writeFileSync(join(root, 'own-cgroup'), '0::/system.slice/spindle.service/spindle-agent\n');
    const cgroups = open('cpu memory pids');
    if (typeof cgroups === 'string') throw new Error(cgroups);
    expect(cgroups.directories).toEqual([jobs()]);
  });

  // The kernel turns a weight w into w × 1024 / 100 of cpu.shares' scale: the same ratio.
  it('gives the jobs the CPU weight of one thread at their nice value, as cpu.shares does on v1', () => {
    expect([0, 5, 10, 19].map(jobCpuWeight)).toEqual([100, 33, 11, 1]);
    expect([0, 5, 10, 19].map(jobCpuShares)).toEqual([1024, 335, 110, 15]);
  });
});
