import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// The unified (cgroup v2) hierarchy: where it is mounted, where the agent sits in it, how job
// cgroups get controllers there, and how one is emptied. cgroups.ts decides what to use it for.

// The controllers Spindle bounds jobs with, in either hierarchy.
export type Controller = 'memory' | 'pids' | 'cpu';
export const CONTROLLERS: readonly Controller[] = ['memory', 'pids', 'cpu'];

// Where the agent's processes go when its own cgroup must give controllers to job cgroups
// (delegate): a cgroup with controllers in its subtree_control holds no processes of its own.
export const AGENT_LEAF = 'spindle-agent';

// The unified hierarchy's mount: `root` itself on a v2 host, `<root>/unified` on a hybrid one
// (systemd's layout), or null on a v1-only host.
export function unifiedMount(root: string): string | null {
  for (const dir of [root, join(root, 'unified')])
    if (existsSync(join(dir, 'cgroup.controllers'))) return dir;
  return null;
}

// The agent's own cgroup in the unified hierarchy: the "0::/path" line of /proc/self/cgroup, or
// the parent of the leaf its processes moved to (delegate), as when the agent opens its cgroups
// again (a test, a restart of its module in the same process).
export function ownUnifiedPath(ownCgroups: string): string | null {
  const line = ownCgroups.split('\n').find((l) => l.startsWith('0::'));
  if (!line) return null;
  const path = line.slice(3);
  return basename(path) === AGENT_LEAF ? dirname(path) : path;
}

// The controllers a cgroup file lists ("cpu memory pids"): cgroup.controllers (what its parent
// gives it) or cgroup.subtree_control (what it gives its children).
export function controllersOf(dir: string, file = 'cgroup.controllers'): string[] {
  return readFileSync(join(dir, file), 'utf8').trim().split(/\s+/).filter(Boolean);
}

// Gives `dir`'s child cgroups every controller of `wanted` that `dir` has (cgroup.controllers:
// those its parent delegates), by enabling them in its cgroup.subtree_control. Where `dir` still
// holds processes (the agent's own cgroup, a systemd service's with Delegate=yes, a container's
// root), the kernel refuses (EBUSY: "no internal processes"), so they move to the leaf
// `dir/spindle-agent` first, as systemd and container runtimes do; the root cgroup is exempt.
// Returns the controllers its children get, and how many processes moved.
export function delegate<C extends string>(
  dir: string,
  wanted: readonly C[],
): { enabled: C[]; moved: number } {
  const have = controllersOf(dir);
  const enabled = new Set(controllersOf(dir, 'cgroup.subtree_control'));
  let moved = 0;
  for (const controller of wanted.filter((c) => have.includes(c) && !enabled.has(c))) {
    // One at a time: one the kernel refuses (cpu, with a realtime thread in the subtree) leaves
    // the others enabled.
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(join(dir, 'cgroup.subtree_control'), `+${controller}`);
        enabled.add(controller);
        break;
      } catch (e) {
        // A process forked into `dir` meanwhile makes it busy again: moved at the next attempt.
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 5) break;
        moved += moveProcesses(dir, join(dir, AGENT_LEAF));
      }
    }
  }
  return { enabled: wanted.filter((c) => enabled.has(c)), moved };
}

// delegate's undoing, at the agent's end: where the leaf `dir/spindle-agent` is `dir`'s only child
// cgroup (no other agent's job cgroups are left beside it), `dir` gives its children no controller
// any more and the leaf's processes (the agent among them) go back into `dir`, which is then as it
// was before any agent delegated. Only a delegating agent makes the leaf, and only while `dir` held
// processes, which it cannot while it gives controllers: so every controller `dir` gives then is
// one an agent enabled. Returns how many processes went back, or why none did.
export function undelegate(dir: string): number | string {
  const leaf = join(dir, AGENT_LEAF);
  if (!existsSync(leaf)) return `no ${AGENT_LEAF} leaf under ${dir}`;
  const others = readdirSync(dir, { withFileTypes: true }).filter(
    (e) => e.isDirectory() && e.name !== AGENT_LEAF,
  );
  if (others.length > 0) return `${dir} has other child cgroups (${others.map((e) => e.name).join(', ')})`;
  try {
    for (const controller of controllersOf(dir, 'cgroup.subtree_control'))
      writeFileSync(join(dir, 'cgroup.subtree_control'), `-${controller}`);
  } catch (e) {
    return `${dir} still gives its children controllers: ${(e as Error).message}`;
  }
  let moved = 0;
  // A process the leaf's processes fork meanwhile is born in the leaf: moved at the next round.
  for (let round = 0; round < 5 && pidsIn(leaf).length > 0; round++) moved += moveProcesses(leaf, dir);
  try {
    rmdirSync(leaf);
  } catch (e) {
    return `${leaf} not removed after ${moved} processes went back: ${(e as Error).message}`;
  }
  return moved;
}

// Moves every process of `from` (not its descendants) into `to`, made if need be.
function moveProcesses(from: string, to: string): number {
  mkdirSync(to, { recursive: true });
  let moved = 0;
  for (const pid of pidsIn(from)) {
    try {
      writeFileSync(join(to, 'cgroup.procs'), String(pid));
      moved++;
    } catch {
      // ended meanwhile (ESRCH)
    }
  }
  return moved;
}

export function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// Whether any process is in the cgroup or below ("populated 1" in cgroup.events).
export function populated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false; // removed
  }
}

// How a job cgroup is emptied at once, whatever its processes do meanwhile: `cgroup.kill`
// (kernel >= 5.14) SIGKILLs every process in it and below in one write, also one forking then;
// before that, `freeze` stops them all (cgroup.freeze, kernel >= 5.2) so that none can fork while
// each is sent SIGKILL (a fatal signal reaches a frozen process) and thaws them to die.
export type Killer = 'kill' | 'freeze';

export function killerOf(dir: string): Killer | null {
  if (existsSync(join(dir, 'cgroup.kill'))) return 'kill';
  if (existsSync(join(dir, 'cgroup.freeze'))) return 'freeze';
  return null;
}

// Empties the cgroup `dir` with `killer`; true once no process is left in it (within 5 s: a
// killed process leaves its cgroup when it exits, which an uninterruptible wait may delay).
export async function emptyUnified(dir: string, killer: Killer): Promise<boolean> {
  if (!populated(dir)) return true;
  try {
    if (killer === 'kill') writeFileSync(join(dir, 'cgroup.kill'), '1');
    else await freezeAndKill(dir);
  } catch {
    return !populated(dir); // removed meanwhile: nothing left
  }
  for (let waited = 0; populated(dir) && waited < 5_000; waited += 10) await sleep(10);
  return !populated(dir);
}

// Without cgroup.kill: freeze, SIGKILL every process listed, thaw.
export async function freezeAndKill(dir: string): Promise<void> {
  writeFileSync(join(dir, 'cgroup.freeze'), '1');
  try {
    // "frozen 1" once every process is stopped; one forking at the freeze is then listed too.
    for (let waited = 0; !/^frozen 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8')); waited += 5) {
      if (waited >= 1_000) break; // signal what is listed anyway
      await sleep(5);
    }
    for (const pid of pidsIn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } finally {
    writeFileSync(join(dir, 'cgroup.freeze'), '0');
  }
}

// How many of the cgroup's processes the kernel killed for passing memory.max (memory.events).
export function oomKills(dir: string): number {
  try {
    const kills = /^oom_kill (\d+)$/m.exec(readFileSync(join(dir, 'memory.events'), 'utf8'));
    return kills ? Number(kills[1]) : 0;
  } catch {
    return 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
