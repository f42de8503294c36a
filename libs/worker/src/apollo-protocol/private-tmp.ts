import { spawnSync } from 'node:child_process';
import { PRIVATE_MOUNTS, UNSHARE } from '../sandbox/mount-namespace';

// Apollo's programs talk over fixed paths (/tmp/map.sock, /tmp/reduce.sock,
// /tmp/reduce-input-<order>.sock), so two invocations at once on one host would take each other's
// sockets. Each invocation therefore runs in a mount namespace of its own where /tmp is a
// bind-mount of a directory the worker made for it: the worker listens and connects on that
// directory's paths, the program sees them under /tmp, and nothing else on the host does.
//
// As root (CI, containers): `unshare --mount`. Otherwise `unshare --user --map-root-user --mount`,
// which needs unprivileged user namespaces (most distributions allow them; some hardened ones set
// kernel.unprivileged_userns_clone=0 or an AppArmor rule against it). Without either the apollo
// protocol cannot run and its tasks fail with the reason; the streaming protocol is unaffected.
export type PrivateTmpMode = 'mount-namespace' | 'user-namespace';

// Inside the namespace: open the program (it may itself lie under /tmp, which the mount hides),
// bind the invocation's directory over /tmp, then become the program through the open descriptor.
// The working directory, already entered, stays the task's own even when it lies under /tmp.
const BIND_AND_EXEC = 'exec 3<"$2" && mount --bind "$1" /tmp && shift 2 && exec /proc/self/fd/3 "$@"';

export interface PrivateTmpLauncher {
  readonly mode: PrivateTmpMode;
  // The command that runs `program args…` with `dir` as its /tmp.
  command(dir: string, program: string, args: readonly string[]): { file: string; argv: string[] };
}

const UNSHARE_FLAGS: Record<PrivateTmpMode, string[]> = {
  'mount-namespace': [...PRIVATE_MOUNTS],
  'user-namespace': ['--user', '--map-root-user', ...PRIVATE_MOUNTS],
};

function launcher(mode: PrivateTmpMode): PrivateTmpLauncher {
  return {
    mode,
    command: (dir, program, args) => ({
      file: UNSHARE,
      argv: [...UNSHARE_FLAGS[mode], 'sh', '-c', BIND_AND_EXEC, 'sh', dir, program, ...args],
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
    const { file, argv } = launcher(mode).command('/tmp', '/bin/true', []);
    const probe = spawnSync(file, argv, { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) return launcher(mode);
    failures.push(`${mode}: ${(probe.error?.message ?? probe.stderr).trim() || `exit ${probe.status}`}`);
  }
  return new Error(
    'the apollo protocol needs a private /tmp for every invocation (unshare from util-linux, as root or ' +
      `with unprivileged user namespaces), and this host gives none: ${failures.join('; ')}`,
  );
}
