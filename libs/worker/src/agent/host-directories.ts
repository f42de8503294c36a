import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

// Each agent run keeps its workers' and jobs' directories under `<job tree>/<host id>`, and a host
// id is `<hostname>-<pid>` unless one is configured: every run of `npm start` makes a directory of
// its own in the job tree, which nothing else would ever remove.

// At the agent's start: the directories of earlier runs on this machine that did not end cleanly
// (their workers and whatever their jobs left there), named `<hostname>-<pid>` with no such process
// alive, and this run's own directory when its host id is configured (an earlier run of the same
// host left it; its workers are gone). Another live agent's directory (two worker hosts in one
// job tree, `npm run start:all`) has a live pid and stays. Returns the names removed.
export async function removeStaleHostDirectories(
  jobTree: string,
  hostName: string,
  ownHostId: string,
  alive: (pid: number) => boolean = processAlive,
): Promise<string[]> {
  const prefix = `${hostName}-`;
  let names: string[];
  try {
    names = (await readdir(jobTree, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return []; // no job tree yet
  }
  const stale = names.filter((name) => {
    if (name === ownHostId) return true;
    if (!name.startsWith(prefix)) return false;
    const pid = name.slice(prefix.length);
    return /^[1-9][0-9]*$/.test(pid) && !alive(Number(pid));
  });
  await Promise.all(stale.map((name) => rm(join(jobTree, name), { recursive: true, force: true })));
  return stale;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
