import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

// One process of a floor (start-floor.ts, command-floor.ts) or of a tool (command-hop.ts): `file`
// forked with `role` as its argument and handed `setup` over IPC; `next` waits for its next
// answer, `stop` asks it to end and waits until it has.
export interface FloorProcess<A> {
  readonly child: ChildProcess;
  next(): Promise<A>;
  stop(): Promise<void>;
}

export function forkFloorProcess<A>(
  file: string,
  role: string,
  setup: unknown,
  what: string,
): FloorProcess<A> {
  const child = fork(file, [role], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send(setup as object);
  return {
    child,
    next: () =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`${what}'s ${role} exited with ${code}`));
        child.once('exit', onExit);
        child.once('message', (answer: A) => {
          child.off('exit', onExit);
          resolve(answer);
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ kind: 'stop' });
      }),
  };
}

// The forked side: in a process forked with one of `roles`' names as its argument, the first
// message is its setup, handed to that role's function; a failure ends the process (code 1), which
// its FloorProcess reports. Nothing happens in any other process (the one that forks).
export function serveFloorRole<S>(roles: Record<string, (setup: S) => Promise<void>>): void {
  const role = process.argv.find((a) => Object.hasOwn(roles, a));
  if (role === undefined) return;
  process.once('message', (setup: S) => {
    roles[role]!(setup).catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  });
}
