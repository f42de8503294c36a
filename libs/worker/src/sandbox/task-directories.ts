import { mkdirSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

// How many emptied task directories a worker keeps for its next tasks: as many as it may run at
// once in the usual contexts, so a busy shared worker makes none at all.
export const SPARE_TASK_DIRECTORIES = 64;

// A worker's task directories (`<worker>/jobs/<job id>`): one for every task, made before it runs
// and gone after it. Making and removing a directory are the most expensive of a task's small file
// operations: on the ext4 disks Spindle is measured on (mounted with `discard`, so a freed block is
// discarded at once), a mkdir cost about 70 µs and an rmdir 90 µs of CPU, a write of a new file 48,
// a rename 12; with the loggers file's write and removal, a third of a warm no-op job's CPU in the
// agent. So a directory its task left as it was made (nothing in it but the files the agent put
// there, `agentFiles`, which the next task's own then replace, or keep when they are the same) is
// kept, and the next task's directory is that one renamed. A directory with anything else in it
// goes, as before. Every one goes with its worker's directory when the worker stops.
//
// A kept directory is its worker's, as its tasks are: the jobs of a worker run as one user, in one
// runner where they are shared, so none is hidden from another by its directory alone.
export class TaskDirectories {
  private readonly spare: string[] = [];
  private kept = 0;

  constructor(
    private readonly jobsDir: string,
    private readonly agentFiles: readonly string[],
  ) {}

  // The directory of the worker's task `jobId` (its working directory). A name starting with a dot
  // is none: `.`, `..` and the kept directories' names.
  pathOf(jobId: string): string {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(jobId))
      throw new Error(`a job id is not a directory name: ${JSON.stringify(jobId)}`);
    return join(this.jobsDir, jobId);
  }

  // Makes the directory of task `jobId` (a kept one renamed, when there is one) and returns it.
  // Synchronous calls, as a task's other small file operations (privateDirectory, in
  // confinement.ts, says why).
  open(jobId: string): string {
    const path = this.pathOf(jobId);
    for (let spare = this.spare.pop(); spare !== undefined; spare = this.spare.pop()) {
      try {
        renameSync(spare, path);
        return path;
      } catch (e) {
        // A kept directory that is gone is forgotten; when the task's own path is taken (a job
        // run again on this worker whose directory is still there), the kept one stays kept.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.spare.push(spare);
          break;
        }
      }
    }
    mkdirSync(path, { recursive: true });
    return path;
  }

  // After its task: kept for the next when it holds nothing but the agent's own files (regular
  // files, by name), else removed with whatever the job left there. What a job left has no bound in
  // size, so that removal is asynchronous.
  async close(path: string): Promise<void> {
    if (this.spare.length < SPARE_TASK_DIRECTORIES && this.asMade(path)) {
      // Under a name of its own meanwhile: no directory named after a job outlives it.
      const spare = join(this.jobsDir, `.kept-${++this.kept}`);
      try {
        renameSync(path, spare);
        this.spare.push(spare);
        return;
      } catch {
        // Removed below.
      }
    }
    try {
      for (const file of this.agentFiles) rmSync(join(path, file), { force: true });
      rmdirSync(path);
    } catch {
      // Not empty (or gone already): inside its worker's directory, which also goes when it stops.
      await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  // Forgets the kept directories (their worker's directory is being removed with them).
  clear(): void {
    this.spare.length = 0;
  }

  private asMade(path: string): boolean {
    try {
      return readdirSync(path, { withFileTypes: true }).every(
        (entry) => entry.isFile() && this.agentFiles.includes(entry.name),
      );
    } catch {
      return false;
    }
  }
}
