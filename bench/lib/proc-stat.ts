import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

// USER_HZ: /proc counts CPU time in these on every Linux architecture Node runs on.
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  readonly command: string; // its executable's name, as the kernel keeps it (15 characters at most)
  readonly ppid: number;
  readonly processGroup: number;
  // CPU time in clock ticks: the process's own in user and kernel mode, and that of its children
  // it has reaped.
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
}

// A process's /proc/<pid>/stat; throws when it is gone.
export function procStat(pid: number): ProcStat {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After the command's name, in parentheses that may hold spaces: state, ppid, process group, ...;
  // utime is the 14th field of the line, stime, cutime and cstime the next three.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    command: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
    ppid: Number(f[1]),
    processGroup: Number(f[2]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    cutime: Number(f[13]),
    cstime: Number(f[14]),
  };
}

// The process on this machine that listens on a TCP port (IPv4 or IPv6, any local address): the
// socket's inode in /proc/net/tcp{,6}, then the process holding it among /proc/<pid>/fd. Null when
// none here does (a server on another machine) or its files cannot be read.
export function listenerPid(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // A line: sl, local address:port (hex), remote address:port, state (0A: listening), queues,
    // timer, retransmits, uid, timeout, inode.
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && parseInt(f[1]?.split(':')[1] ?? '', 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`))?.[1];
        if (socket && inodes.has(socket)) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}
