import { spawnSync } from 'node:child_process';
import { PRIVATE_MOUNTS, UNSHARE } from '../sandbox/mount-namespace';

// Apollo's programs talk over fixed paths (/tmp/map.sock, /tmp/reduce.sock,
// /tmp/reduce-input-<order>.sock), so two invocations at once on one host would take each other's
// sockets. Each invocation therefore runs in a mount namespace of its own where /tmp is a
// bind-mount of a directory the worker made for it: the worker listens and connects on that
// directory's paths, the program sees them under /tmp, and nothing else on the host does.
//
// Where the job sandbox gives its processes a read-only view (job users), the view binds that
// directory on /tmp itself, in its own mount namespace (Jail.command's `tmp`). Without one this
// does it, around the sandbox's chain: as root (SPINDLE_JOB_FS=off) `unshare --mount`; otherwise
// `unshare --user --map-root-user --mount`, which needs unprivileged user namespaces (most
// distributions allow them; some hardened ones set kernel.unprivileged_userns_clone=0 or an
// AppArmor rule against it). Without either the apollo protocol cannot run and its tasks fail with
// the reason; the streaming protocol is unaffected.
export type PrivateTmpMode = 'mount-namespace' | 'user-namespace';

// Inside the namespace: open the program (it may itself lie under /tmp, which the mount hides),
// bind the invocation's directory over /tmp, then run the chain, which runs the program through
// the open descriptor. The working directory, already entered, stays the task's own even when it
// lies under /tmp.
const BIND_AND_EXEC = 'exec 3<"$2" && mount --bind "$1" /tmp && shift 2 && exec "$@"';

// What the chain is given for the program: the descriptor opened before /tmp was covered.
export const OPENED_PROGRAM = '/proc/self/fd/3';

export interface PrivateTmpLauncher {
  readonly mode: PrivateTmpMode;
  // The command that runs `chain` (the sandbox's, ending in OPENED_PROGRAM) with `dir` as its
  // /tmp, `program` being what OPENED_PROGRAM is.
  command(
    dir: string,
    program: string,
    chain: { command: string; argv: readonly string[] },
  ): { command: string; argv: string[] };
}

const UNSHARE_FLAGS: Record<PrivateTmpMode, string[]> = {
  'mount-namespace': [...PRIVATE_MOUNTS],
  'user-namespace': ['--user', '--map-root-user', ...PRIVATE_MOUNTS],
};

function launcher(mode: PrivateTmpMode): PrivateTmpLauncher {
  return {
    mode,
    command: (dir, program, chain) => ({
      command: UNSHARE,
      argv: [
        ...UNSHARE_FLAGS[mode],
        'sh',
        '-c',
        BIND_AND_EXEC,
        'sh',
        dir,
        program,
        chain.command,
        ...chain.argv,
      ],
    }),
  };
}

let detected: PrivateTmpLauncher | Error | undefined;

// Which way this host gives an invocation its own /tmp, found once by trying it.
export function privateTmp(): PrivateTmpLauncher {
  detected ??= detect();
  if (detected instanceof Error) throw detected;
  return detected;
}

function detect(): PrivateTmpLauncher | Error {
  const modes: PrivateTmpMode[] =
    process.getuid?.() === 0 ? ['mount-namespace', 'user-namespace'] : ['user-namespace'];
  const failures: string[] = [];
  for (const mode of modes) {
    const { command, argv } = launcher(mode).command('/tmp', '/bin/true', {
      command: OPENED_PROGRAM,
      argv: [],
    });
    const probe = spawnSync(command, argv, { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) return launcher(mode);
    failures.push(`${mode}: ${(probe.error?.message ?? probe.stderr).trim() || `exit ${probe.status}`}`);
  }
  return new Error(
    'the apollo protocol needs a private /tmp for every invocation (unshare from util-linux, as root or ' +
      `with unprivileged user namespaces), and this host gives none: ${failures.join('; ')}`,
  );
}
