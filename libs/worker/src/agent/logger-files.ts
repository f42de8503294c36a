import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

  // Written before the task starts, so its program finds the levels at once. A small file on the
  // host's own disk, written for every task: synchronously (privateDirectory, in
  // sandbox/confinement.ts, says why).
  async open(taskId: string, workDir: string): Promise<string> {
    mkdirSync(workDir, { recursive: true });
    const file = join(workDir, LOGGERS_FILE);
    this.tasks.set(taskId, file);
    await this.write(taskId, file);
    return file;
  }

  close(taskId: string): void {
    this.tasks.delete(taskId);
  }

  async change(loggers: LoggersDocument): Promise<void> {
    this.loggers = loggers;
    await Promise.all([...this.tasks].map(([taskId, file]) => this.write(taskId, file)));
  }

  private write(taskId: string, file: string): Promise<void> {
    this.chain = this.chain.then(() => this.replace(taskId, file));
    return this.chain;
  }

  private replace(taskId: string, file: string): void {
    const temporary = `${file}.${randomUUID()}`;
    try {
      writeFileSync(temporary, JSON.stringify(effectiveLoggers(this.loggers, taskId)));
      renameSync(temporary, file);
    } catch (e) {
      // The task may have ended and its directory gone meanwhile.
      rmSync(temporary, { force: true });
      if (this.tasks.has(taskId)) this.logger.warn(`loggers of ${taskId} not written: ${String(e)}`);
    }
  }
}
