import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  AGENT_LEAF,
  CONTROLLERS,
  controllersOf,
  delegate,
  emptyUnified,
  killerOf,
  oomKills,
  ownUnifiedPath,
  pidsIn,
  sleep,
  undelegate,
  unifiedMount,
} from './cgroup-v2';
import type { Controller, Killer } from './cgroup-v2';
import type { JobLimits } from './confinement';

// What a job's cgroup bounds: resident memory (rlimits cannot: RLIMIT_AS counts reserved address
// space, which V8 and the JVM reserve by the gigabyte), the processes in it, and its CPU weight.
export type CgroupLimits = Pick<JobLimits, 'memoryBytes' | 'processes' | 'nice'>;

// Which hierarchies the agent may use (SPINDLE_JOB_CGROUPS): `auto` the unified one where the host
// has it, `v1` the v1 hierarchies alone (a hybrid host whose unified hierarchy is another's).
export type CgroupHierarchies = 'auto' | 'v1';

// Where a bound holds: in the unified hierarchy, in a v1 one, or nowhere on this host.
export type BoundAt = 'v2' | 'v1' | null;

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

// The same in cgroup v2: cpu.weight is out of a default of 100 where cpu.shares is out of 1024
// (the kernel turns a weight w into w × 1024 / 100), so the same ratio: nice 10 → 110 / 1024 × 100
// ≈ 11 (the kernel's 113 against 1024), nice 19 → 1, the least there is.
export function jobCpuWeight(nice: number): number {
  return Math.max(1, Math.round((jobCpuShares(nice) * 100) / 1024));
}

// Every process a worker starts (a runner, an exec or jvm task) runs in a cgroup of its own, under
// the agent's: `<hierarchy>/<the agent's own cgroup>/spindle-<host>/<name>`. So a memory limit
// holds for what the process and all it starts really use, and when the process ends, whatever it
// left behind (a daemon started with setsid, a child holding its stdout) ends with it: the cgroup
// is emptied and removed. Nested under the agent's own cgroup, jobs stay inside whatever bounds the
// host puts on Spindle.
// Where the host has the unified hierarchy (cgroup v2: every current distribution; hybrid hosts
// too) a job's cgroup there holds its processes, is emptied with cgroup.kill and known empty by
// cgroup.events; each bound (memory, pids, cpu) is set where its controller is: the unified
// hierarchy when the agent's cgroup has it, else its v1 hierarchy (a hybrid host binds most
// controllers to v1), else nowhere, which the agent says at start (describe). A v1-only host
// holds the processes in the v1 pids (else memory, cpu) hierarchy and empties them by signals.
export class JobCgroups {
  private constructor(
    // The parent of the job cgroups in the unified hierarchy, the controllers its children get
    // there and how they are emptied; null: none (v1 only).
    private readonly unified: {
      dir: string;
      controllers: Controller[];
      killer: Killer | null;
      swap: boolean; // memory.swap.max (swap accounting)
    } | null,
    private readonly v1: Partial<Record<Controller, string>>,
    readonly limits: CgroupLimits,
    // What open() found out about bounds it cannot set (for describe).
    private readonly notes: Partial<Record<Controller, string>>,
    // How many processes of the agent's own cgroup moved to its leaf (delegate).
    private readonly moved: number,
  ) {}

  // The agent's cgroups, or why there are none (the agent then relies on rlimits and process
  // groups alone, and says so at start). `root`, `ownCgroups`, `uid`: the host's and the agent's, or
  // a test's stand-ins (cgroups.spec).
  static open(
    agentName: string,
    limits: CgroupLimits,
    options: { hierarchies?: CgroupHierarchies; root?: string; ownCgroups?: string; uid?: number } = {},
  ): JobCgroups | string {
    const root = options.root ?? '/sys/fs/cgroup';
    if ((options.uid ?? process.getuid?.()) !== 0) return 'the worker agent is not root';
    const own = readFileSync(options.ownCgroups ?? '/proc/self/cgroup', 'utf8');
    const leaf = `spindle-${agentName.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const mount = options.hierarchies === 'v1' ? null : unifiedMount(root);
    const ownPath = ownUnifiedPath(own);
    const notes: Partial<Record<Controller, string>> = {};
    let unified: JobCgroups['unified'] = null;
    let moved = 0;
    if (mount !== null && ownPath !== null) {
      const agent = join(mount, ownPath);
      const dir = join(agent, leaf);
      try {
        const given = delegate(agent, CONTROLLERS);
        moved = given.moved;
        mkdirSync(dir, { recursive: true });
        // The job cgroups (leaves: they hold the processes) get what the agent's cgroup has.
        const controllers = delegate(dir, given.enabled).enabled;
        if (controllers.includes('cpu'))
          writeFileSync(join(dir, 'cpu.weight'), String(jobCpuWeight(limits.nice)));
        unified = { dir, controllers, killer: killerOf(dir), swap: existsSync(join(dir, 'memory.swap.max')) };
        const offered = controllersOf(agent).join(' ') || 'none';
        for (const c of CONTROLLERS)
          if (!controllers.includes(c))
            notes[c] = `not given to the agent's cgroup v2 ${agent} (its cgroup.controllers: ${offered})`;
      } catch (e) {
        return `cannot make the cgroup ${dir}: ${(e as Error).message}`;
      }
    } else if (mount !== null) {
      return `no cgroup v2 line (0::) in /proc/self/cgroup though ${mount} is mounted`;
    }
    // v1 hierarchies for the bounds the unified one does not have.
    const v1: Partial<Record<Controller, string>> = {};
    for (const controller of CONTROLLERS) {
      if (unified?.controllers.includes(controller)) continue;
      // "4:memory:/some/path" (a hierarchy may carry several controllers: "3:cpu,cpuacct:/").
      const line = own
        .split('\n')
        .map((l) => l.split(':'))
        .find((parts) => parts.length >= 3 && parts[1]!.split(',').includes(controller));
      if (!line || !existsSync(join(root, controller, 'cgroup.procs'))) {
        const none = `no cgroup v1 ${controller} hierarchy at ${join(root, controller)}`;
        notes[controller] = notes[controller] ? `${notes[controller]}; ${none}` : none;
        continue;
      }
      const dir = join(root, controller, line.slice(2).join(':'), leaf);
      try {
        mkdirSync(dir, { recursive: true });
        if (controller === 'cpu') writeFileSync(join(dir, 'cpu.shares'), String(jobCpuShares(limits.nice)));
      } catch (e) {
        return `cannot make the cgroup ${dir}: ${(e as Error).message}`;
      }
      v1[controller] = dir;
      delete notes[controller];
    }
    if (unified === null && v1.pids === undefined && v1.memory === undefined && v1.cpu === undefined)
      return mount === null && options.hierarchies !== 'v1'
        ? `no cgroup hierarchy at ${root} (neither cgroup v2 nor v1 memory, pids, cpu)`
        : `no cgroup v1 memory, pids or cpu hierarchy at ${root}`;
    return new JobCgroups(unified, v1, limits, notes, moved);
  }

  // Where each bound holds.
  at(controller: Controller): BoundAt {
    if (this.unified?.controllers.includes(controller)) return 'v2';
    return this.v1[controller] !== undefined ? 'v1' : null;
  }

  // One line for the agent's log at start: what holds a job's processes, which bounds hold where,
  // and which do not here, and why.
  describe(): string {
    const { memoryBytes, processes, nice } = this.limits;
    const where = this.unified
      ? `cgroup v2 ${this.unified.dir}, emptied by ${this.unified.killer === 'kill' ? 'cgroup.kill' : this.unified.killer === 'freeze' ? 'cgroup.freeze and SIGKILL' : 'SIGKILL'}`
      : `cgroup v1 ${this.v1.pids ?? this.v1.memory ?? this.v1.cpu}, emptied by SIGKILL`;
    const bound = (c: Controller, what: string) => {
      const at = this.at(c);
      return at === null ? `${what}: NOT bounded (${this.notes[c]})` : `${what}: cgroup ${at}`;
    };
    const memory = memoryBytes === null ? 'no memory limit' : `memory ${memoryBytes / 1048576} MiB`;
    const cpu =
      this.at('cpu') === 'v2'
        ? `CPU weight ${jobCpuWeight(nice)} (cpu.weight)`
        : `CPU weight ${jobCpuShares(nice)} (cpu.shares)`;
    const moved =
      this.moved > 0
        ? [
            `${this.moved} processes of the agent's cgroup moved to ${join(this.unified!.dir, '..', AGENT_LEAF)}`,
          ]
        : [];
    return [
      `processes in ${where}`,
      bound('memory', memory),
      bound('pids', `${processes} processes`),
      bound('cpu', cpu),
      ...moved,
    ].join('; ');
  }

  // A fresh cgroup for one process, its limits set; `removed` hears when it is gone, and whether
  // it was empty then.
  create(name: string, removed?: (emptied: boolean) => void): ProcessCgroup {
    const own = name.replace(/[^A-Za-z0-9_.-]/g, '_');
    const unified = this.unified ? join(this.unified.dir, own) : null;
    const v1: Partial<Record<Controller, string>> = {};
    if (unified) mkdirSync(unified, { recursive: true });
    for (const [controller, parent] of Object.entries(this.v1) as [Controller, string][]) {
      v1[controller] = join(parent, own);
      mkdirSync(v1[controller], { recursive: true });
    }
    const { memoryBytes, processes } = this.limits;
    if (memoryBytes !== null) {
      if (this.at('memory') === 'v2') {
        writeFileSync(join(unified!, 'memory.max'), String(memoryBytes));
        // No swap beyond it (v1's memsw bound memory and swap together): a job over its limit ends
        // instead of swapping. Absent on a kernel without swap accounting.
        if (this.unified!.swap) writeFileSync(join(unified!, 'memory.swap.max'), '0');
      } else if (v1.memory) {
        writeFileSync(join(v1.memory, 'memory.limit_in_bytes'), String(memoryBytes));
        // With swap, memory and swap together: else a job over its limit swaps instead of ending.
        const withSwap = join(v1.memory, 'memory.memsw.limit_in_bytes');
        if (existsSync(withSwap)) writeFileSync(withSwap, String(memoryBytes));
      }
    }
    if (this.at('pids') === 'v2') writeFileSync(join(unified!, 'pids.max'), String(processes));
    else if (v1.pids) writeFileSync(join(v1.pids, 'pids.max'), String(processes));
    return new ProcessCgroup(
      unified,
      v1,
      this.unified?.killer ?? null,
      this.at('memory'),
      this.limits,
      removed,
    );
  }

  // Where its processes' cgroups are made, one directory per hierarchy (the unified one first).
  get directories(): readonly string[] {
    return [...(this.unified ? [this.unified.dir] : []), ...Object.values(this.v1)];
  }

  // At the agent's end: every cgroup it made that is empty now, and its own; then, where its
  // processes moved to the leaf beside (delegate) and no other agent's cgroups are left there, the
  // agent's cgroup as it was (undelegate). Returns what became of the leaf, for the agent's log.
  close(): string | null {
    for (const parent of this.directories) {
      for (const child of safeList(parent)) safeRemove(join(parent, child));
      safeRemove(parent);
    }
    if (this.moved === 0 || this.unified === null) return null;
    const agent = dirname(this.unified.dir);
    const back = undelegate(agent);
    return typeof back === 'number'
      ? `${back} processes went back from ${join(agent, AGENT_LEAF)} to ${agent}, and the leaf is removed`
      : `the agent's processes stay in ${join(agent, AGENT_LEAF)}: ${back}`;
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
    // Its cgroup in the unified hierarchy (null: v1 only) and in each v1 hierarchy used.
    private readonly unified: string | null,
    private readonly v1: Partial<Record<Controller, string>>,
    private readonly killer: Killer | null,
    private readonly memoryAt: BoundAt,
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
    return [...(this.unified ? [this.unified] : []), ...Object.values(this.v1)].map((dir) =>
      join(dir, 'cgroup.procs'),
    );
  }

  // The kernel killed a process of it for passing the memory limit.
  outOfMemory(): boolean {
    if (this.limits.memoryBytes === null) return false;
    if (this.memoryAt === 'v2') return oomKills(this.unified!) > 0;
    if (!this.v1.memory) return false;
    try {
      // memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill 1" (oom_kill: kernels >= 4.13)
      const control = readFileSync(join(this.v1.memory, 'memory.oom_control'), 'utf8');
      const kills = /^oom_kill (\d+)$/m.exec(control);
      if (kills) return Number(kills[1]) > 0;
      return Number(readFileSync(join(this.v1.memory, 'memory.failcnt'), 'utf8')) > 0;
    } catch {
      return false;
    }
  }

  // SIGKILL to every process left in it, until none is: in the unified hierarchy at once
  // (emptyUnified), else one signal each per round (one that forks meanwhile is caught by the next
  // round; pids.max bounds how many there can be). False when some were still there at the end.
  async killAll(): Promise<boolean> {
    if (this.unified && this.killer) return emptyUnified(this.unified, this.killer);
    const members = this.unified ?? this.v1.pids ?? this.v1.memory ?? this.v1.cpu!;
    for (let round = 0; round < 100; round++) {
      const pids = pidsIn(members);
      if (pids.length === 0) return true;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await sleep(10);
    }
    return pidsIn(members).length === 0;
  }

  // Empties it and removes it; resolves true once no process is left in it. Idempotent: every
  // caller gets the one removal's answer.
  remove(): Promise<boolean> {
    this.removal ??= (async () => {
      const emptied = await this.killAll();
      let gone = true;
      for (const dir of [...(this.unified ? [this.unified] : []), ...Object.values(this.v1)]) {
        // A killed process leaves its cgroup a moment after it is reaped.
        let attempt = 0;
        while (!safeRemove(dir) && ++attempt < 50) await sleep(20);
        gone &&= attempt < 50;
      }
      this.removed?.(emptied && gone);
      return emptied && gone;
    })();
    return this.removal;
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
