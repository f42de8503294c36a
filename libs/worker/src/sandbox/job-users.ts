import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

// An unprivileged OS user that one job process (and everything it starts) runs as, held by one
// worker agent until released. Distinct from Spindle's user and from every other running job's, so
// the kernel keeps jobs out of each other's directories, out of the agent's /proc entries (its
// environment holds the database URL and the internal token) and unable to signal the agent.
export interface JobUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface JobUserLease extends JobUser {
  // `swept`: the holder has already ended every process of the user (through cgroups that held
  // them all), so the pool need not end them again.
  release(options?: { swept: boolean }): Promise<void>;
}

const PREFIX = 'spindle-job-';
const USERADD_ATTEMPTS = 20;

// The pool `spindle-job-0` … `spindle-job-<size-1>`, created on first use (useradd, which needs
// root). Several agents on one host (tests, or `start:all` with two worker hosts) share the pool:
// a lease is an abstract Unix socket named after the user, which the kernel lets one process bind
// at a time and frees when that process dies, so no lock file can go stale after a crash.
export class JobUserPool {
  private readonly held = new Map<number, Server>();
  private readonly known = new Map<number, JobUser>();
  private creating: Promise<unknown> = Promise.resolve();

  constructor(private readonly size: number) {}

  static available(): boolean {
    return process.platform === 'linux' && process.getuid?.() === 0;
  }

  async lease(): Promise<JobUserLease> {
    // Lowest free first: the host's pool grows only to the most jobs it ever ran at once.
    for (let n = 0; n < this.size; n++) {
      if (this.held.has(n)) continue;
      const lock = await bindLock(`${PREFIX}${n}`);
      if (!lock) continue;
      this.held.set(n, lock);
      try {
        const user = await this.ensureUser(n);
        return { ...user, release: async (options) => this.release(n, user, options?.swept ?? false) };
      } catch (e) {
        this.held.delete(n);
        lock.close();
        throw e;
      }
    }
    throw new Error(
      `no free job user: all ${this.size} of the pool (SPINDLE_JOB_USERS) are running jobs on this host`,
    );
  }

  // Every process of the user ends (also those that left the job's process group with setsid),
  // then the user goes back to the pool. The sweep costs two processes forked from the agent, most
  // of what an exclusive job's worker costs the host beyond the job's own process, so a holder
  // that has ended them all already says so.
  private async release(n: number, user: JobUser, swept: boolean): Promise<void> {
    if (!swept) await killEveryProcessOf(user);
    this.held.get(n)?.close();
    this.held.delete(n);
  }

  private async ensureUser(n: number): Promise<JobUser> {
    const cached = this.known.get(n);
    if (cached) return cached;
    const name = `${PREFIX}${n}`;
    let user = await lookUp(name);
    if (!user) {
      // useradd locks /etc/passwd; this agent's creations go one at a time, other agents' are retried.
      const creation = this.creating.then(() => createUser(name));
      this.creating = creation.catch(() => undefined);
      await creation;
      user = await lookUp(name);
      if (!user) throw new Error(`job user ${name} could not be created`);
    }
    this.known.set(n, user);
    return user;
  }
}

function bindLock(name: string): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ path: `\0spindle-lease:${name}` }, () => {
      server.unref(); // a held lease never keeps the agent alive
      resolve(server);
    });
  });
}

async function lookUp(name: string): Promise<JobUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

async function createUser(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        '--comment',
        'Spindle job sandbox user',
        name,
      ]);
      return;
    } catch (e) {
      if (await lookUp(name)) return; // another agent made it first
      const err = e as { code?: number; stderr?: string };
      // exit 10: /etc/passwd is locked by another useradd (another agent): wait and try again.
      if (attempt >= USERADD_ATTEMPTS || err.code !== 10)
        throw new Error(`useradd ${name} failed: ${(err.stderr ?? String(e)).trim()}`);
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

// kill(-1) as the user itself signals exactly the processes that user may signal: its own. Twice,
// for a process that forked while the first went round.
export async function killEveryProcessOf(user: JobUser): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await run('setpriv', [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      '--clear-groups',
      '--',
      'kill',
      '-KILL',
      '-1',
    ]).catch(() => undefined); // exit 1 when nothing was left to kill
  }
}
