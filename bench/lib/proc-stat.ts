import { readFileSync } from 'node:fs';

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
