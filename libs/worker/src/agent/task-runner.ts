import type { AgentReport, JobAssignedV1, NewEvent, TaskOutcome } from '@spindle/contracts';
import type { MessageBus } from '@spindle/backbone';
import type { SpindleConfig } from '@spindle/platform';
import { MAX_LINE_BYTES } from '../sandbox';
import type { RunningTask, TaskResult, WorkerSandbox } from '../sandbox';
import type { AgentReporter, EventCause } from './agent-reporter';
import type { ArtifactCache } from './artifact-cache';
import { LogShipper } from './log-shipper';
import type { LoggerFiles } from './logger-files';
import type { SecretResolver } from './secret-resolver';
import { boundReport } from './task-bounds';

// An error message travels whole in the task's end report; a longer one keeps its start and end.
const MAX_ERROR_BYTES = 16 * 1024;

// One task on this host, from its assignment until its end is reported.
export class HostTask {
  running: RunningTask | undefined; // once its process (or its runner's) took it
  cancelled: { reason: string } | undefined;
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly jobId: string,
    readonly cause: EventCause, // the assignment
  ) {}

  // A cancel may come before the task has a process: it is kept, and the run honours it as soon as
  // it can. The first reason is the one the task ends with (its process keeps the first one too).
  cancel(reason: string): void {
    this.cancelled ??= { reason };
    this.running?.cancel(this.cancelled.reason);
  }
}

export interface TaskRunnerOptions {
  readonly artifacts: ArtifactCache;
  readonly secrets: SecretResolver;
  readonly loggerFiles: LoggerFiles;
  readonly reporter: AgentReporter;
}

// Runs one task in its worker's sandbox: its program from the artifact cache, its secrets, its
// loggers file, its output to the log-collector, and its end reported within the report's bounds.
// Cancels and timeouts end the task's process in the sandbox; here a cancel only has to reach it.
export class TaskRunner {
  constructor(
    private readonly config: SpindleConfig,
    private readonly bus: MessageBus,
    private readonly options: TaskRunnerOptions,
  ) {}

  // Starts the task without waiting for it. `release` is called as soon as its end is reported
  // (and again when its run is over), so its worker lets it go before the report commits.
  // `exclusive`: its worker exists for it alone and stops once it is released, reporting its exit:
  // the task's end is held until then, so that both go in one commit (AgentReporter.holdUntilNext).
  start(
    sandbox: WorkerSandbox,
    assigned: JobAssignedV1,
    cause: EventCause,
    release: () => void,
    exclusive = false,
  ): HostTask {
    const task = new HostTask(assigned.id, cause);
    task.done = this.run(sandbox, task, assigned, release, exclusive).finally(release);
    return task;
  }

  private async run(
    sandbox: WorkerSandbox,
    task: HostTask,
    assigned: JobAssignedV1,
    release: () => void,
    exclusive: boolean,
  ): Promise<void> {
    const { artifacts, secrets, loggerFiles, reporter } = this.options;
    const { id: jobId, workerId, task: spec } = assigned;
    const shipper = new LogShipper(this.bus, jobId, workerId, this.config.worker.maxLogBytes);
    const workDir = sandbox.taskDirectory(jobId);
    let result: TaskResult;
    let finishedAt: Date | undefined;
    try {
      // The program and all its libraries are here, each checked, before anything of it starts.
      const { programPath, libraryPaths } = await artifacts.materializeProgram(spec.program);
      // This job's secrets, for this job's process only; Spindle's own variables win a clash.
      const secretEnv = task.cancelled ? {} : await secrets.resolve(jobId, spec.secrets ?? []);
      // The job is its own allocation until service jobs give instances ids of their own.
      sandbox.openTaskDirectory(jobId);
      const loggersFile = await loggerFiles.open(jobId, workDir);
      if (task.cancelled) {
        result = { outcome: 'cancelled', error: task.cancelled.reason };
      } else {
        task.running = await sandbox.run(
          {
            jobId,
            runtime: spec.program.runtime,
            programPath,
            libraryPaths,
            entrypoint: spec.program.entrypoint,
            args: spec.args,
            workDir,
            env: {
              ...secretEnv,
              SPINDLE_JOB_ID: jobId,
              SPINDLE_FUNCTION: spec.function,
              SPINDLE_CONTEXT: spec.context,
              SPINDLE_WORKER_ID: workerId,
              SPINDLE_LOGGERS: loggersFile,
            },
            performTimeoutMs: spec.performTimeoutMs,
          },
          { line: (stream, text, at) => shipper.line(stream, text, at) },
        );
        const ended = task.running.done.then((r) => {
          finishedAt = new Date(); // the moment it ended, not when its start was recorded
          return r;
        });
        // A cancel may have arrived while the program was fetched or the process started.
        const cancelledMeanwhile = task.cancelled as HostTask['cancelled'];
        if (cancelledMeanwhile) task.running.cancel(cancelledMeanwhile.reason);
        // Reported once the task really began in its process, with the host's own time.
        const startedAt = await task.running.started;
        if (startedAt)
          await reporter.report(
            {
              type: 'TaskStarted',
              version: 1,
              data: {
                jobId,
                workerId,
                pid: task.running.pid,
                startedAt: startedAt.toISOString(),
              },
            },
            task.cause,
          );
        result = await ended;
      }
    } catch (e) {
      result = { outcome: 'failed', error: e instanceof Error ? e.message : String(e) };
    }
    result = boundReport(
      result,
      {
        maxResultBytes: this.config.worker.maxResultBytes,
        maxErrorBytes: MAX_ERROR_BYTES,
        logChunkBytes: MAX_LINE_BYTES,
      },
      shipper,
    );
    loggerFiles.close(jobId);
    const log = await shipper.close();
    const finished: NewEvent<AgentReport> = {
      type: 'TaskFinished',
      version: 1,
      data: {
        jobId,
        workerId,
        outcome: result.outcome,
        result: result.outcome === 'succeeded' ? result.result : null,
        error: result.outcome === 'succeeded' ? null : result.error,
        log,
        finishedAt: (finishedAt ?? new Date()).toISOString(),
      },
    };
    // Over as soon as its end is told: an exclusive worker then stops, and its exit report takes
    // the held end along in one commit (the scheduler decides the job's end and its worker's in
    // one transaction); a shared worker's task commits with whatever else the turn reports.
    if (exclusive) {
      reporter.holdUntilNext(workerId, () => finished, task.cause);
      release();
    } else {
      const reported = reporter.report(finished, task.cause);
      release();
      await reported;
    }
    await sandbox.closeTaskDirectory(workDir);
  }

  // The end of a task that never ran here (its worker is stopping or unknown, or a cancel came
  // for a task not running here), told so that its job does not wait for it.
  finishUnrun(
    jobId: string,
    workerId: string,
    outcome: TaskOutcome,
    error: string,
    cause: EventCause,
  ): Promise<void> {
    return this.options.reporter.report(
      {
        type: 'TaskFinished',
        version: 1,
        data: {
          jobId,
          workerId,
          outcome,
          result: null,
          error,
          log: { lines: 0, bytes: 0 },
          finishedAt: new Date().toISOString(),
        },
      },
      cause,
    );
  }
}
