import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { ENTER_CGROUPS } from './cgroups';
import type { ProcessCgroup } from './cgroups';
import { MOUNT, PRIVATE_MOUNTS, UNSHARE } from './mount-namespace';

export type JobFileSystemSetting = 'auto' | 'readonly' | 'off';

// At most this many directories under /tmp stay in place in a process's private /tmp (fds 9 to 6
// of the shell that builds the view).
const MAX_KEPT = 4;

// The shell, still root, that a confined process starts through in a mount namespace of its own
// (`unshare --mount --propagation private [--net]`): it enters the process's cgroups (if any),
// opens the directories under /tmp that must stay visible, has `mount -a` apply the view's
// fstab (one exec for every mount), closes those directories again, enters the process's
// directory afresh (the one it started in lies on the mount as it was, read-only now) and execs
// the rest of the chain (setpriv, which drops root).
// Arguments: <nice> <cgroup.procs…> -- <fstab> <directory> <kept directories…> -- <command…>
const BUILD_VIEW = [
  ENTER_CGROUPS,
  'fstab=$1 dir=$2; shift 2',
  `fd=9; while [ "$1" != -- ]; do eval "exec $fd<\\"\\$1\\"" || exit 125; fd=$((fd-1)); shift; done; shift`,
  `${MOUNT} -a -c --fstab "$fstab" || { echo "spindle: the read-only view of the file system could not be made" >&2; exit 125; }`,
  'exec 9<&- 8<&- 7<&- 6<&-',
  'cd "$dir" && exec "$@"',
].join('\n');

// A job process's view of the file system (docs/security.md, "The job sandbox"): every mount
// read-only (each remounted `bind,ro`: util-linux 2.38 here has no mount_setattr, so `ro=recursive`
// would silently do nothing), but for the process's own directories (rw), a private empty /tmp and
// /dev/shm (tmpfs, gone with the process's namespace). Directories that job processes read and
// that lie under /tmp (a job tree there, as in the tests) are bound back into the private /tmp at
// their paths, read-only. One `mount -a` does it all, from an fstab the agent writes per process
// (root's, in a 0700 directory of its own) and removes when the process ends.
export class FileSystemView {
  private constructor(
    // Directories job processes read, kept in place when they lie under /tmp.
    readonly keep: readonly string[],
    private readonly filesDir: string,
    private readonly devShm: boolean,
  ) {}

  // The view when the setting asks for it and the host gives it, else why not (`auto`: the
  // agent says so in one line and runs without; `readonly`: it refuses to start).
  static open(setting: JobFileSystemSetting, keep: readonly string[]): FileSystemView | string {
    if (setting === 'off') return 'SPINDLE_JOB_FS=off';
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'the worker agent is not root';
    const view = new FileSystemView(
      keep.map((dir) => resolve(dir)),
      mkdtempSync(join(tmpdir(), 'spindle-view-')),
      existsSync('/dev/shm'),
    );
    const probeDir = mkdtempSync(join(tmpdir(), 'spindle-view-probe-'));
    try {
      const probe = view.command(
        { command: '/bin/true', argv: [] },
        { cgroup: null, network: true, writable: [probeDir], nice: 0 },
      );
      const run = spawnSync(probe.command, probe.argv, { cwd: probeDir, encoding: 'utf8', timeout: 10_000 });
      probe.release();
      if (run.status === 0) return view;
      view.close();
      return `the view could not be made here (a mount namespace, remounts): ${(run.error?.message ?? run.stderr).trim() || `exit ${run.status}`}`;
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
  }

  // The command line that runs `inner` (setpriv … program) in this view: `writable` are the
  // process's own directories, the first its working directory. `release` removes the view's
  // fstab once the process has ended (or could not start).
  command(
    inner: { command: string; argv: readonly string[] },
    options: {
      cgroup: ProcessCgroup | null;
      network: boolean;
      writable: readonly string[];
      nice: number; // ENTER_CGROUPS
      tmp?: string | null; // a directory of the host to be its /tmp (viewFstab)
    },
  ): { command: string; argv: string[]; release: () => void } {
    const writable = options.writable.map((dir) => resolve(dir));
    if (writable.length === 0) throw new Error('a process in a read-only view needs a directory of its own');
    const kept = outermost([...this.keep, ...writable].filter(underTmp));
    if (kept.length > MAX_KEPT)
      throw new Error(
        `at most ${MAX_KEPT} directories under /tmp can stay visible to a job: ${kept.join(', ')}`,
      );
    const fstab = join(this.filesDir, `${randomUUID()}.fstab`);
    // Made again should a cleaner of old temporary files have taken it while the agent ran.
    mkdirSync(this.filesDir, { recursive: true, mode: 0o700 });
    const tmp = options.tmp ? resolve(options.tmp) : null;
    writeFileSync(fstab, viewFstab(mountPoints(), { kept, writable, devShm: this.devShm, tmp }), {
      mode: 0o600,
      flag: 'wx',
    });
    return {
      command: UNSHARE,
      argv: [
        ...PRIVATE_MOUNTS,
        ...(options.network ? [] : ['--net']),
        '--',
        '/bin/sh',
        '-c',
        BUILD_VIEW,
        'spindle-view',
        String(options.nice),
        ...(options.cgroup?.procs ?? []),
        '--',
        fstab,
        writable[0]!,
        ...kept,
        '--',
        inner.command,
        ...inner.argv,
      ],
      release: () => rmSync(fstab, { force: true }),
    };
  }

  // At the agent's end.
  close(): void {
    rmSync(this.filesDir, { recursive: true, force: true });
  }
}

// The fstab that `mount -a -c` applies, in order: every mount point read-only (`mountPoints` as
// /proc/self/mountinfo writes them: octal escapes, which fstab reads the same way; the root as
// `//`, since `mount -a` skips an entry for `/`), a fresh /tmp (or `tmp`, a directory of the host
// the agent also reaches: the apollo protocol's sockets lie there), the kept directories back in it
// (from the shell's fds 9, 8, … which still reach the host's /tmp), a fresh /dev/shm, then each
// writable directory bound onto itself (a copy of the read-only mount above it) and made rw.
export function viewFstab(
  mountPoints: readonly string[],
  view: { kept: readonly string[]; writable: readonly string[]; devShm: boolean; tmp?: string | null },
): string {
  const lines = mountPoints.map((at) => `none ${at === '/' ? '//' : at} none remount,bind,ro 0 0`);
  if (view.tmp)
    lines.push(`${escaped(view.tmp)} /tmp none bind 0 0`, 'none /tmp none remount,bind,rw,nosuid,nodev 0 0');
  else lines.push('spindle-tmp /tmp tmpfs mode=1777,nosuid,nodev 0 0');
  view.kept.forEach((dir, n) =>
    lines.push(`/proc/self/fd/${9 - n} ${escaped(dir)} none bind,X-mount.mkdir 0 0`),
  );
  if (view.devShm) lines.push('spindle-shm /dev/shm tmpfs mode=1777,nosuid,nodev 0 0');
  for (const dir of view.writable)
    lines.push(
      `${escaped(dir)} ${escaped(dir)} none bind 0 0`,
      `none ${escaped(dir)} none remount,bind,rw 0 0`,
    );
  return `${lines.join('\n')}\n`;
}

// The mount points of this mount namespace (the one a fresh `unshare --mount` copies), escaped.
function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!);
}

// fstab's (and mountinfo's) escapes for what would end a field.
function escaped(path: string): string {
  return path.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function underTmp(dir: string): boolean {
  return dir.startsWith(`/tmp${sep}`);
}

// Without those inside another of them.
function outermost(dirs: readonly string[]): string[] {
  const unique = [...new Set(dirs)];
  return unique.filter((dir) => !unique.some((other) => other !== dir && dir.startsWith(`${other}${sep}`)));
}
