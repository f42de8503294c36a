import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { JobCgroups, ProcessCgroup } from './cgroups';
import type { JobUser, JobUserLease, JobUserPool } from './job-users';
import type { FileSystemView } from './file-system-view';
import { UNSHARE } from './mount-namespace';
import { CHECKOUT_RUNTIME_FILES } from './runtime-files';
import type { RuntimeFiles } from './runtime-files';
import { Spawner } from './spawner/spawner';
import { baseEnv } from './types';

// What a job process may use. Limits are rlimits set by util-linux's `prlimit` in front of the
// program, which every host has; resident memory (memoryBytes) and the processes of a job as a
// whole are bounded by a cgroup where the host has them (cgroups.ts). Address-space limits break
// runtimes that reserve large virtual ranges (V8, the JVM), so they are off unless set.
export interface JobLimits {
  readonly openFiles: number;
  readonly processes: number;
  readonly addressSpaceBytes: number | null;
  readonly cpuSeconds: number | null;
  readonly memoryBytes: number | null; // enforced by cgroups only (JobCgroups)
  // How much less CPU than the agent a job gets when both want it: its nice value (0 the agent's
  // own priority, 19 the least), so that a busy job never delays the agent's heartbeats.
  readonly nice: number;
}

export interface ConfinementPolicy {
  // Run each process as a user of the job-user pool (needs the agent to run as root).
  readonly separateUsers: boolean;
  readonly network: boolean;
  readonly limits: JobLimits;
}

export const DEFAULT_JOB_LIMITS: JobLimits = {
  openFiles: 4_096,
  processes: 1_024,
  addressSpaceBytes: null,
  cpuSeconds: null,
  memoryBytes: null,
  nice: 10,
};

// The command line that starts `command argv` confined: without the network (a fresh network
// namespace: `unshare`, as root, before privileges are dropped), as the job's user with no
// supplementary groups and no way to regain privileges (`setpriv`), under the limits (`prlimit`,
// which an unprivileged process may apply to itself). Without a job user (the agent is not
// root) only the limits apply: jobs then share Spindle's user, as docs/security.md explains.
// `prlimit` stays last before the program even where a root shell in front could set the limits:
// setpriv keeps its capabilities until it execs, so a program it looked up in PATH itself would be
// found where only root may look (a PATH entry under /root) and then fail as the job's user.
// `nice` lowers the priority first (a lower one is all an unprivileged process may ask for, so the
// job cannot undo it).
// `namespaces: false`: the caller makes them (FileSystemView, with its mount namespace).
export function confinedCommand(
  policy: ConfinementPolicy,
  user: JobUser | null,
  command: string,
  argv: readonly string[],
  namespaces = true,
): { command: string; argv: string[] } {
  const chain: string[] = [];
  if (user && !policy.network && namespaces) chain.push(UNSHARE, '--net', '--');
  const { limits } = policy;
  if (limits.nice > 0) chain.push('nice', '-n', String(limits.nice));
  if (user)
    chain.push(
      'setpriv',
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      '--clear-groups',
      '--no-new-privs',
      '--',
    );
  chain.push('prlimit', `--nofile=${limits.openFiles}:${limits.openFiles}`);
  // RLIMIT_NPROC counts every process of the user: only a job's own user makes it the job's.
  if (user) chain.push(`--nproc=${limits.processes}:${limits.processes}`);
  if (limits.addressSpaceBytes !== null)
    chain.push(`--as=${limits.addressSpaceBytes}:${limits.addressSpaceBytes}`);
  if (limits.cpuSeconds !== null) chain.push(`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds}`);
  chain.push('--', command, ...argv);
  return { command: chain[0]!, argv: chain.slice(1) };
}

// A directory only its job's user can enter (and the agent, as root): other jobs on the host
// cannot list or read it.
// Made for every task, so with synchronous calls, as are a task's other small file operations on
// the host's own disk (its loggers file, the look at its cached program, its empty directory's removal):
// each asynchronous call is a round trip through libuv's thread pool, and on the 2-core VMs Spindle
// is measured on, that hand-off costs about 50 µs of CPU, several times the call itself (a task's
// mkdir, chmod, write, rename and removal: about 450 µs asynchronous, 80 µs synchronous). A job's
// own data, and a program's first fetch and hash, stay asynchronous: their size has no bound.
export async function privateDirectory(path: string, user: JobUser | null): Promise<void> {
  mkdirSync(path, { recursive: true });
  if (!user) return;
  chownSync(path, user.uid, user.gid);
  chmodSync(path, 0o700);
}

// How a host confines the processes it starts for jobs (the worker agent's, from its settings):
// shared by its workers' sandboxes and by MapReduce task attempts, each of which gets a Jail.
export interface HostConfinement {
  readonly policy: ConfinementPolicy;
  readonly users: JobUserPool | null;
  readonly runtimeFiles?: RuntimeFiles;
  readonly cgroups?: JobCgroups | null;
  readonly view?: FileSystemView | null;
}

// One worker's confinement: the policy, the user its processes run as (null: Spindle's own),
// where that user reads the runners' bootstrap and the helpers, the host's cgroups (null: none,
// see JobCgroups.open) and the read-only view of the file system its processes get (null: none,
// see FileSystemView.open; only with a job user, as root could undo it).
export class Jail {
  constructor(
    readonly policy: ConfinementPolicy,
    readonly user: JobUser | null,
    readonly runtimeFiles: RuntimeFiles = CHECKOUT_RUNTIME_FILES,
    readonly cgroups: JobCgroups | null = null,
    readonly view: FileSystemView | null = null,
  ) {}

  // What starts its processes (exec and jvm tasks): the agent process's one spawner.
  readonly spawner = Spawner.shared;

  // The cgroups made for this jail's processes and not yet removed, and whether one could not be
  // emptied.
  private readonly live = new Set<ProcessCgroup>();
  private leftovers = false;

  static readonly unconfined = new Jail(
    { separateUsers: false, network: true, limits: DEFAULT_JOB_LIMITS },
    null,
  );

  // A jail of its own for one holder (a worker, a MapReduce task attempt): with job users, one
  // leased now for the holder's lifetime; release() gives it back. `cancelled`: asked once the
  // lease is there, the holder was stopped meanwhile (the user goes back at once).
  static async lease(confinement: HostConfinement | undefined, cancelled = () => false): Promise<Jail> {
    if (!confinement) return Jail.unconfined;
    let lease: JobUserLease | null = null;
    let held = false;
    if (confinement.users && confinement.policy.separateUsers) {
      lease = await confinement.users.lease();
      held = !cancelled();
      if (!held) await lease.release();
    }
    const jail = new Jail(
      confinement.policy,
      lease,
      confinement.runtimeFiles,
      confinement.cgroups ?? null,
      confinement.view ?? null,
    );
    // Given back once only: the pool may have leased it to another holder since.
    jail.lease = held ? lease : null;
    return jail;
  }

  private lease: JobUserLease | null = null;

  // Ends every process it started (and what they left) and gives its user back to the pool.
  async release(): Promise<void> {
    const swept = await this.endEveryProcess();
    await this.lease?.release({ swept });
  }

  // `cgroup`: the process's own (cgroupFor), entered before anything else. `writable`: the
  // directories the process may write in a read-only view, the first its working directory.
  // `tmp`: a directory to be its /tmp in the view (see viewFstab; without a view the caller makes
  // one, as the apollo protocol does). `release` is called once the process has ended, or could not
  // start.
  command(
    command: string,
    argv: readonly string[],
    cgroup: ProcessCgroup | null = null,
    writable: readonly string[] = [],
    tmp: string | null = null,
  ): { command: string; argv: string[]; release: () => void } {
    if (this.view && this.user) {
      const inner = confinedCommand(this.policy, this.user, command, argv, false);
      return this.view.command(inner, {
        cgroup,
        network: this.policy.network,
        writable,
        nice: this.policy.limits.nice,
        tmp,
      });
    }
    if (tmp !== null) throw new Error('only a read-only view gives a process a /tmp of its own');
    const confined = confinedCommand(this.policy, this.user, command, argv);
    return {
      ...(cgroup ? cgroup.enter(confined.command, confined.argv, this.policy.limits.nice) : confined),
      release: () => undefined,
    };
  }

  // A cgroup of its own for a process about to start (`what`: runner-node, task-<job>), or null on
  // a host without them. Throws when the host has them but this one cannot be made.
  cgroupFor(what: string): ProcessCgroup | null {
    if (!this.cgroups) return null;
    const cgroup = this.cgroups.create(`${what}-${randomUUID().slice(0, 8)}`, (emptied) => {
      this.live.delete(cgroup);
      if (!emptied) this.leftovers = true;
    });
    this.live.add(cgroup);
    return cgroup;
  }

  // Ends every process this jail started and whatever they left behind, through their cgroups.
  // True when that is known to be all of them: every process ran in a cgroup of this jail and
  // every one was emptied. False without cgroups: the caller must sweep by other means (a job
  // user's lease does, see JobUserPool).
  async endEveryProcess(): Promise<boolean> {
    if (!this.cgroups) return false;
    await Promise.all([...this.live].map((cgroup) => cgroup.remove()));
    return !this.leftovers;
  }

  // A job user has no home of its own: HOME is the directory it may write (caches, dotfiles).
  env(own: Readonly<Record<string, string>>, home: string): NodeJS.ProcessEnv {
    const env = baseEnv(own, this.runtimeFiles.helpersDir);
    return this.user ? { ...env, HOME: home } : env;
  }

  prepare(dir: string): Promise<void> {
    return privateDirectory(dir, this.user);
  }

  // Whether command() can give a process a /tmp of its own.
  get privateTmp(): boolean {
    return this.view !== null && this.user !== null;
  }
}

// Where a worker agent keeps its job tree (every worker's and job's directory, the artifact cache):
// SPINDLE_JOB_DIR when set, else <SPINDLE_DATA_DIR>/worker. As root with job users, a data directory
// that job users cannot pass through (a checkout in root's private home) would leave jobs
// unconfined, so the tree goes under /var/lib/spindle instead, one per data directory; `moved` says so.
export const SHARED_JOB_DIR = '/var/lib/spindle';

export function jobTreeOf(dataDir: string, configured: string | undefined, withJobUsers: boolean): JobTree {
  if (configured !== undefined) {
    const dir = resolve(configured);
    return { dir, ownRoot: dir, moved: undefined };
  }
  const root = resolve(dataDir);
  const own: JobTree = { dir: join(root, 'worker'), ownRoot: root, moved: undefined };
  if (!withJobUsers) return own;
  const blocked = closedAncestor(root);
  if (blocked === null) return own;
  const dir = join(SHARED_JOB_DIR, `jobs-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
  return {
    dir,
    ownRoot: SHARED_JOB_DIR,
    moved: `job directories in ${dir}: job users cannot pass through ${blocked} (set SPINDLE_JOB_DIR to choose)`,
  };
}

export interface JobTree {
  readonly dir: string;
  // The top directory Spindle owns on the way there, which it opens for traversal (o+x).
  readonly ownRoot: string;
  readonly moved: string | undefined;
}

// The nearest existing directory above `dir` that other users cannot pass through, or null.
function closedAncestor(dir: string): string | null {
  for (let at = dirname(dir); ; at = dirname(at)) {
    try {
      if ((statSync(at).mode & 0o001) === 0) return at;
    } catch {
      // not there yet: it will be made with the default mode
    }
    if (at === dirname(at)) return null;
  }
}

// Job users must pass through every directory above their own (execute, not read): those at or
// under Spindle's data directory get o+x; one above it that denies them (a data directory under
// /root, say) is returned so the agent can say why it falls back to running jobs as itself.
// The first directory on the way to `target` (a directory of Spindle's code) that other users
// cannot pass, or null when job users can reach it. Nothing is changed: it is not Spindle's to open.
export async function readableByJobs(target: string): Promise<string | null> {
  for (let dir = resolve(target); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return dir;
    if (dir === dirname(dir)) return null;
  }
}

export async function traversableForJobs(dataDir: string, target: string): Promise<string | null> {
  const root = resolve(dataDir);
  const ownTree: string[] = [];
  for (let dir = resolve(target); ; dir = dirname(dir)) {
    const inside = dir === root || dir.startsWith(`${root}${sep}`);
    if (inside) ownTree.push(dir);
    else if (((await stat(dir)).mode & 0o001) === 0) return dir;
    if (dir === dirname(dir)) break;
  }
  for (const dir of ownTree) {
    await mkdir(dir, { recursive: true });
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
  }
  return null;
}
