import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { EMPTY_LOGGERS, effectiveLoggers } from '@spindle/contracts';
import type { LoggersDocument } from '@spindle/contracts';

// The name of the file, in a task's working directory, and of the variable that names its path.
export const LOGGERS_FILE = 'SPINDLE_LOGGERS.json';

// Keeps every running task's SPINDLE_LOGGERS file equal to the levels in force for it (the
// defaults with its allocation's own levels on top). A file is replaced whole by a rename, so a
// program never reads half of one; the helpers in runtimes/ notice the new file and apply it.
export class LoggerFiles {
  private readonly logger = new Logger('worker-agent');
  private loggers: LoggersDocument = EMPTY_LOGGERS;
  private readonly tasks = new Map<string, string>(); // task (allocation) id -> its file
  // One write at a time, each from the levels in force when it runs: the last one wins.
  private chain: Promise<void> = Promise.resolve();

  // Written into the task's directory (made already) before the task starts, so its program finds
  // the levels at once. A small file on the host's own disk, written for every task: synchronously
  // (privateDirectory, in sandbox/confinement.ts, says why). A directory kept from an earlier task
  // (sandbox/task-directories.ts) has its file already: it is kept when it says the same.
  async open(taskId: string, workDir: string): Promise<string> {
    const file = join(workDir, LOGGERS_FILE);
    this.tasks.set(taskId, file);
    await this.write(taskId, file, { unlessSame: true });
    return file;
  }

  // After this, no write for the task is made any more (one queued still is dropped): its
  // directory may be the next task's.
  close(taskId: string): void {
    this.tasks.delete(taskId);
  }

  async change(loggers: LoggersDocument): Promise<void> {
    this.loggers = loggers;
    await Promise.all([...this.tasks].map(([taskId, file]) => this.write(taskId, file)));
  }

  private write(taskId: string, file: string, options: { unlessSame?: boolean } = {}): Promise<void> {
    this.chain = this.chain.then(() => this.replace(taskId, file, options.unlessSame === true));
    return this.chain;
  }

  private replace(taskId: string, file: string, unlessSame: boolean): void {
    if (this.tasks.get(taskId) !== file) return;
    const levels = JSON.stringify(effectiveLoggers(this.loggers, taskId));
    if (unlessSame && holds(file, levels)) return;
    const temporary = `${file}.${randomUUID()}`;
    try {
      writeFileSync(temporary, levels);
      renameSync(temporary, file);
    } catch (e) {
      // The task may have ended and its directory gone meanwhile.
      rmSync(temporary, { force: true });
      if (this.tasks.has(taskId)) this.logger.warn(`loggers of ${taskId} not written: ${String(e)}`);
    }
  }
}

// Whether a file is a regular one holding exactly `content`. The task's directory is its job
// user's, who may have put anything there under that name: a link is not followed, a pipe or a
// device is not read (opened without blocking, then looked at), nor a file of another size.
function holds(file: string, content: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    return stat.isFile() && stat.size === Buffer.byteLength(content) && readFileSync(fd, 'utf8') === content;
  } catch {
    return false; // none yet: a directory just made
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
