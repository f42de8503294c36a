import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobLimits } from './confinement';

// What a job's cgroup bounds: resident memory (rlimits cannot: RLIMIT_AS counts reserved address
// space, which V8 and the JVM reserve by the gigabyte), the processes in it, and its CPU weight.
export type CgroupLimits = Pick<JobLimits, 'memoryBytes' | 'processes' | 'nice'>;

// The cgroup v1 hierarchies Spindle uses (this is what hosts here have; see openJobCgroups): memory
// and pids always, cpu where the host has it.
const REQUIRED = ['memory', 'pids'] as const;
type Controller = (typeof REQUIRED)[number] | 'cpu';
type Directories = Partial<Record<Controller, string>> & Record<(typeof REQUIRED)[number], string>;

// The kernel's weight of a thread at each nice value 0 to 19 (sched_prio_to_weight).
const NICE_WEIGHTS = [
  1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
];

// The cpu.shares of the cgroup that holds all of an agent's job processes: together they weigh
// what one thread at the jobs' nice value weighs against each of the agent's threads (nice 0), so
// the agent gets the CPU it asks for however many jobs burn it. A nice value alone would not do:
// in a cgroup of its own a job competes as the cgroup, whatever its threads' nice value.
export function jobCpuShares(nice: number): number {
  return NICE_WEIGHTS[Math.min(19, Math.max(0, nice))]!;
}

// Every process a worker starts (a runner, an exec or jvm task) runs in a cgroup of its own, under
// the agent's: `<controller>/<the agent's own cgroup>/spindle-<host>/<name>`. So a memory limit
// holds for what the process and all it starts really use, and when the process ends, whatever it
// left behind (a daemon started with setsid, a child holding its stdout) ends with it: the cgroup
// is emptied and removed. Nested under the agent's own cgroup, jobs stay inside whatever bounds the
// host puts on Spindle.
export class JobCgroups {
  private constructor(
    private readonly parents: Directories,
    readonly limits: CgroupLimits,
  ) {}

  // The agent's cgroups, or why there are none (the agent then relies on rlimits and process
  // groups alone, and says so at start).
  static open(
    agentName: string,
    limits: CgroupLimits,
    root = '/sys/fs/cgroup',
    ownCgroups = '/proc/self/cgroup',
  ): JobCgroups | string {
    if (process.getuid?.() !== 0) return 'the worker agent is not root';
    if (!existsSync(join(root, 'memory', 'cgroup.procs'))) {
      return existsSync(join(root, 'cgroup.controllers'))
        ? 'this host has cgroups v2 only, which Spindle does not use yet'
        : `no cgroup v1 memory hierarchy at ${join(root, 'memory')}`;
    }
    const own = readFileSync(ownCgroups, 'utf8');
    const parents: Partial<Record<Controller, string>> = {};
    for (const controller of [...REQUIRED, 'cpu'] as const) {
      // "4:memory:/some/path" (a hierarchy may carry several controllers: "3:cpu,cpuacct:/").
      const line = own
        .split('\n')
        .map((l) => l.split(':'))
        .find((parts) => parts.length >= 3 && parts[1]!.split(',').includes(controller));
      if (!line || !existsSync(join(root, controller, 'cgroup.procs'))) {
        if (controller === 'cpu') continue; // jobs then have their nice value alone
        return `no cgroup v1 ${controller} hierarchy at ${join(root, controller)}`;
      }
      const dir = join(
        root,
        controller,
        line.slice(2).join(':'),
        `spindle-${agentName.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
      );
      try {
        mkdirSync(dir, { recursive: true });
        if (controller === 'cpu') writeFileSync(join(dir, 'cpu.shares'), String(jobCpuShares(limits.nice)));
      } catch (e) {
        return `cannot make the cgroup ${dir}: ${(e as Error).message}`;
      }
      parents[controller] = dir;
    }
    return new JobCgroups(parents as Directories, limits);
  }

  // A fresh cgroup for one process, its limits set; `removed` hears when it is gone, and whether
  // it was empty then.
  create(name: string, removed?: (emptied: boolean) => void): ProcessCgroup {
    const dirs: Partial<Record<Controller, string>> = {};
    for (const [controller, parent] of Object.entries(this.parents) as [Controller, string][]) {
      dirs[controller] = join(parent, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
      mkdirSync(dirs[controller], { recursive: true });
    }
    const made = dirs as Directories;
    if (this.limits.memoryBytes !== null) {
      writeFileSync(join(made.memory, 'memory.limit_in_bytes'), String(this.limits.memoryBytes));
      // With swap, memory and swap together: else a job over its limit swaps instead of ending.
      const withSwap = join(made.memory, 'memory.memsw.limit_in_bytes');
      if (existsSync(withSwap)) writeFileSync(withSwap, String(this.limits.memoryBytes));
    }
    writeFileSync(join(made.pids, 'pids.max'), String(this.limits.processes));
    return new ProcessCgroup(made, this.limits, removed);
  }

  // Where its processes' cgroups are made, one directory per hierarchy.
  get directories(): readonly string[] {
    return Object.values(this.parents);
  }

  // At the agent's end: every cgroup it made that is empty now, and its own.
  close(): void {
    for (const parent of Object.values(this.parents)) {
      for (const child of safeList(parent)) safeRemove(join(parent, child));
      safeRemove(parent);
    }
  }
}

// The shell (still root) that lowers its session's CPU weight to its first argument's nice value
// and enters the cgroups whose cgroup.procs files follow, up to `--` (shifted away too): the
// shell's own pid goes into each, so what it execs next is in them. The session's weight: every job
// process leads a session of its own, and where the kernel groups threads by session
// (autogroup: kernel.sched_autogroup_enabled) and no cpu cgroup holds the job, its session weighs
// as much as the agent's whatever its nice value. Root writes it unthrottled; a kernel without
// autogroup has no such file, which changes nothing. Only for a process that leads a session of its
// own (spawned detached): 0 leaves the session's weight as it is.
export const ENTER_CGROUPS =
  '[ "$1" = 0 ] || echo "$1" 2>/dev/null > /proc/self/autogroup; shift; while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift';

export class ProcessCgroup {
  private removal: Promise<boolean> | undefined;

  constructor(
    private readonly dirs: Directories,
    readonly limits: CgroupLimits,
    private readonly removed?: (emptied: boolean) => void,
  ) {}

  // The command line that enters this cgroup and then runs `command`: a shell (still the agent's
  // user, root) writes its own pid into every hierarchy and execs the rest, so the process is in
  // its cgroup before the job's first instruction, and everything it starts is too.
  // `nice`: the job's (ENTER_CGROUPS).
  enter(command: string, argv: readonly string[], nice: number): { command: string; argv: string[] } {
    return {
      command: '/bin/sh',
      argv: [
        '-c',
        `${ENTER_CGROUPS}; exec "$@"`,
        'spindle-cgroup',
        String(nice),
        ...this.procs,
        '--',
        command,
        ...argv,
      ],
    };
  }

  // The files a process writes its pid into to enter this cgroup (ENTER_CGROUPS).
  get procs(): string[] {
    return Object.values(this.dirs).map((dir) => join(dir, 'cgroup.procs'));
  }

  // The kernel killed a process of it for passing the memory limit.
  outOfMemory(): boolean {
    if (this.limits.memoryBytes === null) return false;
    try {
      // memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill 1" (oom_kill: kernels >= 4.13)
      const control = readFileSync(join(this.dirs.memory, 'memory.oom_control'), 'utf8');
      const kills = /^oom_kill (\d+)$/m.exec(control);
      if (kills) return Number(kills[1]) > 0;
      return Number(readFileSync(join(this.dirs.memory, 'memory.failcnt'), 'utf8')) > 0;
    } catch {
      return false;
    }
  }

  // SIGKILL to every process left in it, until none is (one that forks meanwhile is caught by the
  // next round; pids.max bounds how many there can be). False when some were still there after
  // every round.
  async killAll(): Promise<boolean> {
    for (let round = 0; round < 100; round++) {
      const pids = this.pids();
      if (pids.length === 0) return true;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.pids().length === 0;
  }

  // Empties it and removes it; resolves true once no process is left in it. Idempotent: every
  // caller gets the one removal's answer.
  remove(): Promise<boolean> {
    this.removal ??= (async () => {
      const emptied = await this.killAll();
      let gone = true;
      for (const dir of Object.values(this.dirs)) {
        // A killed process leaves its cgroup a moment after it is reaped.
        let attempt = 0;
        while (!safeRemove(dir) && ++attempt < 50) await new Promise((r) => setTimeout(r, 20));
        gone &&= attempt < 50;
      }
      this.removed?.(emptied && gone);
      return emptied && gone;
    })();
    return this.removal;
  }

  private pids(): number[] {
    try {
      return readFileSync(join(this.dirs.pids, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }
}

// How a process the kernel killed for memory is described to the job's user.
export function outOfMemoryError(limits: CgroupLimits): string {
  const mib = Math.round((limits.memoryBytes ?? 0) / (1024 * 1024));
  return `killed: out of memory (it used more than its ${mib} MiB, SPINDLE_JOB_MAX_MEMORY_MB)`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function safeRemove(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
