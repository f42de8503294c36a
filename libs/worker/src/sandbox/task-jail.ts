import { Jail } from './confinement';
import type { HostConfinement } from './confinement';
import type { ProcessCgroup } from './cgroups';
import type { JobUser } from './job-users';

// The processes of one MapReduce task attempt, confined as a worker's are (Jail): as a job user
// leased for the attempt, in one cgroup that holds every process the attempt starts (an apollo
// mapper runs once per line: a cgroup each would cost more than the line), each in the read-only
// view with the attempt's directory the one it writes. close() ends whatever is left of them and
// gives the user back.
export class TaskJail {
  private constructor(
    private readonly jail: Jail,
    private readonly cgroup: ProcessCgroup | null,
    readonly workDir: string,
  ) {}

  // `confinement` null: the attempt's processes run as the agent's own user, with the limits and
  // nice value of an unconfined worker (Jail.unconfined), as in tests of the engine alone.
  static async open(confinement: HostConfinement | null, name: string, workDir: string): Promise<TaskJail> {
    const jail = await Jail.lease(confinement ?? undefined);
    try {
      await jail.prepare(workDir);
      return new TaskJail(jail, jail.cgroupFor(`mapreduce-${name}`), workDir);
    } catch (e) {
      await jail.release();
      throw e;
    }
  }

  get user(): JobUser | null {
    return this.jail.user;
  }

  // Whether command() gives a process a /tmp of its own (else the caller makes one).
  get privateTmp(): boolean {
    return this.jail.privateTmp;
  }

  // The command line that starts `program argv` in the attempt's confinement; `tmp`: see
  // Jail.command. `release` once the process has ended or could not start.
  command(
    program: string,
    argv: readonly string[],
    tmp: string | null = null,
  ): { command: string; argv: string[]; release: () => void } {
    return this.jail.command(program, argv, this.cgroup, [this.workDir], tmp);
  }

  // The environment of its processes: `own` and nothing of the agent's.
  env(own: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
    return this.jail.env(own, this.workDir);
  }

  // A further directory its processes write (an apollo invocation's /tmp): its user's alone.
  prepare(dir: string): Promise<void> {
    return this.jail.prepare(dir);
  }

  close(): Promise<void> {
    return this.jail.release();
  }
}
