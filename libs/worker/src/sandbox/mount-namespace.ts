import { existsSync } from 'node:fs';

// One way to give a process a mount namespace of its own: util-linux's `unshare`, with private
// propagation so that nothing mounted inside reaches the host (and nothing of the host's later
// mounts reaches inside). Used by the job sandbox's read-only view (file-system-view.ts) and by
// the apollo protocol's private /tmp (apollo-protocol/private-tmp.ts).

// By its full path: a program's environment may carry a PATH of its own.
export const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((path) => existsSync(path)) ?? 'unshare';
export const MOUNT = ['/usr/bin/mount', '/bin/mount'].find((path) => existsSync(path)) ?? 'mount';

export const PRIVATE_MOUNTS = ['--mount', '--propagation', 'private'] as const;
