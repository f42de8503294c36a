import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import type { HostHeartbeat, JobAssignedV1, WorkerRequestedV1 } from '@spindle/contracts';
import { WorkerSandbox } from '../sandbox';
import type { HostConfinement } from '../sandbox';
import type { AgentReporter, EventCause } from './agent-reporter';
import { LOGGERS_FILE } from './logger-files';
import type { HostTask, TaskRunner } from './task-runner';

interface Worker {
  readonly request: WorkerRequestedV1;
  readonly sandbox: WorkerSandbox;
  readonly tasks: Map<string, HostTask>;
  stopping: boolean;
  stopped?: Promise<void>;
  endGrace?: () => void; // while a graceful stop waits for its tasks: stop waiting
}

export interface HostWorkersOptions {
  readonly hostId: string;
  readonly incarnation: string; // this agent run: a worker asked of another run is refused
  readonly baseDir: string; // the host's directory: workers/<id> is each worker's
  readonly confinement: HostConfinement; // the agent's (WorkerAgent.confinement)
  readonly reporter: AgentReporter;
  readonly tasks: TaskRunner;
}

// The workers of this host run: each a sandbox (its processes, confined as its job user) and the
// tasks it runs. Starts a worker, hands it its tasks, passes cancels on, and stops it: gracefully
// (its tasks get their grace) or at once, then ends its processes (every process of its user) and
// reports its exit. An exclusive worker stops when its one job ended.
export class HostWorkers {
  private readonly logger = new Logger('worker-agent');
  private readonly workers = new Map<string, Worker>();
  // The host is shutting down: a worker asked for now would only be stopped again.
  private closing = false;

  constructor(private readonly options: HostWorkersOptions) {}

  // What the host's heartbeat says of its workers.
  list(): HostHeartbeat['workers'] {
    return [...this.workers.values()].map((w) => ({ workerId: w.request.id, pid: w.sandbox.pid }));
  }

  close(): void {
    this.closing = true;
  }

  async start(request: WorkerRequestedV1): Promise<void> {
    const { hostId, reporter } = this.options;
    if (this.workers.has(request.id)) return;
    if (request.hostIncarnation !== this.options.incarnation || this.closing) {
      await reporter.report({
        type: 'WorkerProcessExited',
        version: 1,
        data: {
          workerId: request.id,
          hostId,
          reason: this.closing
            ? 'its worker host is shutting down'
            : 'asked of an earlier run of its worker host',
        },
      });
      return;
    }
    const sandbox = new WorkerSandbox({
      workerId: request.id,
      baseDir: join(this.options.baseDir, 'workers', request.id),
      confinement: this.options.confinement,
      agentFiles: [LOGGERS_FILE],
    });
    const worker: Worker = { request, sandbox, tasks: new Map(), stopping: false };
    this.workers.set(request.id, worker);
    sandbox.onRunnerExit((pid, code, signal, lastLines) => {
      if (!worker.stopping)
        this.logger.warn(
          `worker ${request.id}: runner ${pid} exited (code ${code}, signal ${signal})` +
            (lastLines.length > 0 ? `; its last output:\n${lastLines.join('\n')}` : ''),
        );
    });
    // Runners start with the first task that needs one (which runtime is not known before).
    sandbox.onRunnerStart((pid) => {
      // An exclusive worker's held start is built when it goes, with this runner's pid in it:
      // reported on its own, the runner would take the start with it and commit apart from the
      // job's start (a node or python job's runner starts just before its task does).
      if (reporter.holding(request.id)) return;
      void reporter
        .report({
          type: 'WorkerRunnerStarted',
          version: 1,
          data: { workerId: request.id, hostId, pid },
        })
        .catch((e: unknown) =>
          this.logger.warn(`worker ${request.id}: runner ${pid} not reported: ${String(e)}`),
        );
    });
    const started = () =>
      ({
        type: 'WorkerProcessStarted',
        version: 1,
        data: { workerId: request.id, hostId, pid: sandbox.pid },
      }) as const;
    // An exclusive worker's start is told with its job's start (or end), in one commit: the
    // scheduler then decides WorkerStarted and JobStarted in one transaction, and the pid of a
    // runner started meanwhile is in it (no WorkerRunnerStarted, no WorkerPidChanged after it).
    if (request.mode === 'exclusive') {
      reporter.holdUntilNext(request.id, started);
      return;
    }
    // Reported before anything its tasks report (the reporter keeps the order), but the tasks
    // that waited for it need not wait for that report's commit.
    await reporter.report(started());
  }

  // What is reported of a job answers its assignment (or its cancel): `cause` carries the
  // request's correlation id on.
  async assign(assigned: JobAssignedV1, cause: EventCause): Promise<void> {
    const { tasks } = this.options;
    const worker = this.workers.get(assigned.workerId);
    if (worker && !worker.stopping) {
      if (worker.tasks.has(assigned.id)) return;
      worker.tasks.set(
        assigned.id,
        tasks.start(
          worker.sandbox,
          assigned,
          cause,
          () => this.taskEnded(worker, assigned.id),
          worker.request.mode === 'exclusive',
        ),
      );
      return;
    }
    if (worker?.stopping) {
      await tasks.finishUnrun(assigned.id, assigned.workerId, 'failed', 'its worker is stopping', cause);
      return;
    }
    // A worker's request comes before its jobs (one key, one partition): unknown here means it
    // was asked of an earlier run of this host (the same WORKER_HOST_ID), which is gone.
    await tasks.finishUnrun(
      assigned.id,
      assigned.workerId,
      'failed',
      'its worker never started on this host',
      cause,
    );
  }

  async cancel(jobId: string, workerId: string, reason: string, cause: EventCause): Promise<void> {
    const task = this.workers.get(workerId)?.tasks.get(jobId);
    if (task) {
      task.cancel(reason);
      return;
    }
    // Not (or no longer) running here: say so, so the job does not wait in `cancelling`.
    await this.options.tasks.finishUnrun(jobId, workerId, 'cancelled', reason, cause);
  }

  private taskEnded(worker: Worker, jobId: string): void {
    if (!worker.tasks.delete(jobId)) return;
    // An exclusive worker exists for one job.
    if (worker.request.mode === 'exclusive' && worker.tasks.size === 0)
      void this.stop(worker.request.id, 'its job ended');
  }

  // graceMs > 0 (or null: no limit): a graceful stop. The worker takes no new task (assign refuses
  // while it is stopping) and its running ones get that long to end before they are cancelled. A
  // stop without grace meanwhile (its host shutting down) cuts the wait short.
  stop(workerId: string, reason: string, graceMs: number | null = 0): Promise<void> {
    const worker = this.workers.get(workerId);
    if (!worker) return Promise.resolve();
    if (worker.stopping) {
      if (graceMs === 0) worker.endGrace?.();
      return worker.stopped ?? Promise.resolve();
    }
    worker.stopping = true;
    worker.stopped = this.end(worker, reason, graceMs);
    return worker.stopped;
  }

  // Every worker, at once (its host shuts down).
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.workers.keys()].map((id) => this.stop(id, reason)));
  }

  private async end(worker: Worker, reason: string, graceMs: number | null): Promise<void> {
    const workerId = worker.request.id;
    if (graceMs !== 0 && worker.tasks.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = graceMs === null ? undefined : setTimeout(resolve, graceMs);
        const stopWaiting = (): void => {
          clearTimeout(timer);
          resolve();
        };
        worker.endGrace = stopWaiting;
        void Promise.all([...worker.tasks.values()].map((t) => t.done)).then(stopWaiting);
      });
    }
    for (const task of worker.tasks.values()) task.cancel(`its worker stopped: ${reason}`);
    await Promise.all([...worker.tasks.values()].map((t) => t.done));
    // Kills what is left of the worker (confined: every process of its job user, also one that
    // left its process group) and gives the user back to the pool.
    await worker.sandbox
      .stop()
      .catch((e: unknown) => this.logger.warn(`worker ${workerId} stop: ${String(e)}`));
    this.workers.delete(workerId);
    await this.options.reporter.report({
      type: 'WorkerProcessExited',
      version: 1,
      data: { workerId, hostId: this.options.hostId, reason },
    });
  }
}
