import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  DataTopics,
  EventTopics,
  isClusterConfigEvent,
  isJobEvent,
  isWorkerEvent,
  parseEvent,
} from '@spindle/contracts';
import type {
  HostHeartbeat,
  JobAssignedV1,
  JobEvent,
  SpindleEvent,
  TaskOutcome,
  WorkerEvent,
  WorkerRequestedV1,
} from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type {
  DeliveredBatch,
  MessageBus,
  OutboxRelay,
  PostgresEventStore,
  Subscription,
} from '@spindle/backbone';
import { SPINDLE_CONFIG, installationOf } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import {
  CHECKOUT_RUNTIME_FILES,
  JobUserPool,
  MAX_LINE_BYTES,
  WorkerSandbox,
  copyRuntimeFiles,
  jobTreeOf,
  readableByJobs,
  traversableForJobs,
} from '../sandbox';
import type { JobTree, RuntimeFiles } from '../sandbox';
import type { RunningTask, TaskResult } from '../sandbox';
import { AgentReporter } from './agent-reporter';
import type { EventCause } from './agent-reporter';
import { ArtifactCache } from './artifact-cache';
import { LogShipper } from './log-shipper';
import { LoggerFiles } from './logger-files';
import { SecretResolver } from './secret-resolver';
import { boundReport } from './task-bounds';
import { WORKER_CONNECTION, WORKER_EVENT_STORE, WORKER_OUTBOX_RELAY } from './worker.tokens';

const HEARTBEAT_MS = 1_000;
// The scheduler's events a worker host acts on (apply, below).
const FOR_HOSTS: ReadonlySet<string> = new Set([
  'WorkerRequested',
  'WorkerStopRequested',
  'JobAssigned',
  'JobCancelRequested',
]);
// An error message travels whole in the task's end report; a longer one keeps its start and end.
const MAX_ERROR_BYTES = 16 * 1024;

interface Task {
  readonly jobId: string;
  readonly cause: EventCause; // the assignment
  running: RunningTask | undefined;
  cancelled: { outcome: 'cancelled' | 'timed_out'; reason: string } | undefined;
  done: Promise<void>;
}

interface Worker {
  readonly request: WorkerRequestedV1;
  readonly sandbox: WorkerSandbox;
  readonly tasks: Map<string, Task>;
  stopping: boolean;
  stopped?: Promise<void>;
  endGrace?: () => void; // while a graceful stop waits for its tasks: stop waiting
}

// The agent of one worker host. It announces the host with heartbeats, reads what the scheduler
// addresses to it (the host topic), runs worker processes and their tasks, ships
// their output to the log-collector and reports what happened (started, finished, exited).
@Injectable()
export class WorkerAgent implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('worker-agent');
  readonly hostId: string;
  readonly incarnation = randomUUID();
  private readonly startedAt = new Date().toISOString();
  private readonly workers = new Map<string, Worker>();
  private readonly baseDir: string;
  private readonly jobTree: JobTree;
  private readonly artifacts: ArtifactCache;
  private readonly secrets: SecretResolver;
  // Null when jobs run as Spindle's own user (not root, or SPINDLE_JOB_USERS=0).
  private jobUsers: JobUserPool | null;
  // Where job processes read the runners' bootstrap and the helpers: the checkout's, or a copy.
  private runtimeFiles: RuntimeFiles = CHECKOUT_RUNTIME_FILES;
  private reporter!: AgentReporter;
  private subscription: Subscription | undefined;
  private loggersSubscription: Subscription | undefined;
  private readonly loggerFiles = new LoggerFiles();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private heartbeatFailures = 0;

  constructor(
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @InjectDataSource(WORKER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(WORKER_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(WORKER_OUTBOX_RELAY) private readonly relay: OutboxRelay,
  ) {
    // Without a configured name, every agent run is a host of its own.
    this.hostId = config.worker.hostId ?? `${hostname()}-${process.pid}`;
    const { confinement } = config.worker;
    this.jobUsers =
      confinement.jobUsers > 0 && JobUserPool.available() ? new JobUserPool(confinement.jobUsers) : null;
    this.jobTree = jobTreeOf(config.dataDir, config.worker.jobDir, this.jobUsers !== null);
    this.baseDir = join(this.jobTree.dir, this.hostId);
    this.artifacts = new ArtifactCache(config, join(this.jobTree.dir, 'artifacts'));
    this.secrets = new SecretResolver(config, this.hostId);
  }

  async onModuleInit(): Promise<void> {
    if (this.jobUsers) {
      const { ownRoot, moved } = this.jobTree;
      if (moved) this.logger.log(moved);
      // Job users read the runners' bootstrap and the helpers jobs import. A checkout in a
      // private home shuts them out (found on 2026-12-03 as root in /root-like homes, where node
      // jobs failed with MODULE_NOT_FOUND): then they read a copy in the job tree.
      const checkoutShut =
        (await readableByJobs(CHECKOUT_RUNTIME_FILES.bootstrapDir)) ??
        (await readableByJobs(CHECKOUT_RUNTIME_FILES.helpersDir));
      if (checkoutShut) {
        this.runtimeFiles = await copyRuntimeFiles(CHECKOUT_RUNTIME_FILES, join(this.jobTree.dir, 'runtime'));
        this.logger.log(
          `job users read the runners and helpers from ${dirname(this.runtimeFiles.bootstrapDir)}: they cannot pass through ${checkoutShut}`,
        );
      }
      const blocked =
        (await traversableForJobs(ownRoot, join(this.baseDir, 'workers'))) ??
        (await traversableForJobs(ownRoot, join(this.baseDir, 'jobs'))) ??
        (await traversableForJobs(ownRoot, this.artifacts.dir)) ??
        (await readableByJobs(this.runtimeFiles.bootstrapDir)) ??
        (await readableByJobs(this.runtimeFiles.helpersDir));
      if (blocked) {
        this.jobUsers = null;
        this.logger.warn(
          `jobs run as Spindle's own user, not as job users: ${blocked} (above ${ownRoot}) lets no other user through; set SPINDLE_JOB_DIR to a directory outside it (docs/security.md)`,
        );
      }
    }
    this.reporter = AgentReporter.forHost(
      this.dataSource,
      this.store,
      this.relay,
      this.hostId,
      this.incarnation,
    );
    let joined!: () => void;
    const ready = new Promise<void>((r) => (joined = r));
    // Only what the scheduler addresses to hosts, in the order it decided it (one key per host).
    this.subscription = await this.bus.subscribe(
      {
        groupId: `worker-agent.${this.hostId}`,
        topics: [EventTopics.schedulerHost],
        fromBeginning: false,
        onJoined: () => joined(),
      },
      (batch) => this.handle(batch),
    );
    // Every run of the agent reads the logger levels from the start of their topic (each event
    // holds the whole document), so a task starts with the levels in force. A group of its own per
    // run (a run must not resume another's position, nor share partitions with a dead run's member
    // until its session times out), committing no offsets: Kafka drops it when the run leaves.
    this.loggersSubscription = await this.bus.subscribe(
      {
        groupId: `worker-agent-loggers.${this.hostId}.${this.incarnation}`,
        topics: [EventTopics.schedulerClusterConfig],
        fromBeginning: true,
        commitOffsets: false,
      },
      (batch) => this.applyLoggers(batch),
    );
    // Announce the host only once its events reach it: nothing is placed here before.
    void ready.then(() => this.startHeartbeats());
  }

  private async applyLoggers(batch: DeliveredBatch): Promise<void> {
    for (const message of batch.messages) {
      let event: SpindleEvent;
      try {
        event = parseEvent(JSON.parse(message.value));
      } catch {
        continue;
      }
      // Keyed by their stream, they come in order: the last one delivered is the one in force.
      if (isClusterConfigEvent(event) && event.type === 'LoggersChanged')
        await this.loggerFiles.change(event.data.loggers);
    }
  }

  onApplicationBootstrap(): void {
    this.logger.log(`host ${this.hostId} (${this.config.worker.slots} slots) ready`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.beat();
    clearInterval(this.heartbeatTimer);
    await this.subscription?.stop();
    await this.loggersSubscription?.stop();
    await Promise.all([...this.workers.keys()].map((id) => this.stopWorker(id, 'its worker host shut down')));
    await this.reporter.drain();
  }

  private startHeartbeats(): void {
    if (this.stopping) return;
    void this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), HEARTBEAT_MS);
  }

  private async beat(): Promise<void> {
    const heartbeat: HostHeartbeat = {
      installation: installationOf(this.config),
      hostId: this.hostId,
      incarnation: this.incarnation,
      hostname: hostname(),
      agentPid: process.pid,
      slots: this.config.worker.slots,
      startedAt: this.startedAt,
      sentAt: new Date().toISOString(),
      workers: [...this.workers.values()].map((w) => ({ workerId: w.request.id, pid: w.sandbox.pid })),
      stopping: this.stopping,
    };
    try {
      await this.bus.publish([
        { topic: DataTopics.heartbeats, messages: [{ key: this.hostId, value: JSON.stringify(heartbeat) }] },
      ]);
      this.heartbeatFailures = 0;
    } catch (e) {
      if (this.heartbeatFailures++ % 30 === 0)
        this.logger.warn(`heartbeat not sent: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // Each event is taken in delivery order (what apply does before its first await: a worker is
  // known before the jobs assigned to it), and the reports they cause are awaited together, so a
  // burst of assignments shares the reporter's commits instead of waiting for one each.
  private async handle(batch: DeliveredBatch): Promise<void> {
    const applied: Promise<void>[] = [];
    for (const message of batch.messages) {
      // Other hosts' messages share the partitions: told apart by their key, before parsing.
      if (message.key !== this.hostId) continue;
      const type = message.headers['event-type'];
      if (type !== undefined && !FOR_HOSTS.has(type)) continue;
      let event: SpindleEvent;
      try {
        event = parseEvent(JSON.parse(message.value));
      } catch {
        continue; // not for us to judge; the scheduler's own consumers dead-letter bad events
      }
      if (isJobEvent(event) || isWorkerEvent(event)) applied.push(this.apply(event));
    }
    await Promise.all(applied);
  }

  // Never waits for a task to run: the subscription must keep flowing (cancels come through it).
  private async apply(event: JobEvent | WorkerEvent): Promise<void> {
    switch (event.type) {
      case 'WorkerRequested':
        if (event.data.hostId === this.hostId) await this.startWorker(event.data);
        break;
      case 'WorkerStopRequested':
        if (event.data.hostId === this.hostId)
          void this.stopWorker(event.data.id, event.data.reason, event.data.graceMs ?? 0);
        break;
      case 'JobAssigned':
        if (event.data.hostId === this.hostId) await this.assign(event.data, event);
        break;
      case 'JobCancelRequested':
        if (event.data.hostId === this.hostId)
          await this.cancel(event.data.id, event.data.workerId, 'cancelled', 'cancelled by request', event);
        break;
      case 'WorkerStarted':
      case 'WorkerPidChanged':
      case 'WorkerStopped':
      case 'JobSubmitted':
      case 'JobStarted':
      case 'JobRequeued': // its host was taken for dead; a new assignment comes if it runs again
      case 'JobSucceeded':
      case 'JobFailed':
      case 'JobCancelled':
      case 'JobTimedOut':
      case 'JobDeleted':
        break; // the agent's own reports, or nothing for a host to do
    }
  }

  private async startWorker(request: WorkerRequestedV1): Promise<void> {
    if (this.workers.has(request.id)) return;
    if (request.hostIncarnation !== this.incarnation || this.stopping) {
      await this.reporter.report({
        type: 'WorkerProcessExited',
        version: 1,
        data: {
          workerId: request.id,
          hostId: this.hostId,
          reason: this.stopping
            ? 'its worker host is shutting down'
            : 'asked of an earlier run of its worker host',
        },
      });
      return;
    }
    const { confinement } = this.config.worker;
    const sandbox = new WorkerSandbox({
      workerId: request.id,
      baseDir: join(this.baseDir, 'workers', request.id),
      confinement: {
        policy: {
          separateUsers: this.jobUsers !== null,
          network: confinement.network,
          limits: confinement.limits,
        },
        users: this.jobUsers,
        runtimeFiles: this.runtimeFiles,
      },
    });
    const worker: Worker = { request, sandbox, tasks: new Map(), stopping: false };
    this.workers.set(request.id, worker);
    sandbox.onRunnerExit((pid, code, signal) => {
      if (!worker.stopping)
        this.logger.warn(`worker ${request.id}: runner ${pid} exited (code ${code}, signal ${signal})`);
    });
    // Runners start with the first task that needs one (which runtime is not known before).
    sandbox.onRunnerStart((pid) => {
      void this.reporter
        .report({
          type: 'WorkerRunnerStarted',
          version: 1,
          data: { workerId: request.id, hostId: this.hostId, pid },
        })
        .catch((e: unknown) =>
          this.logger.warn(`worker ${request.id}: runner ${pid} not reported: ${String(e)}`),
        );
    });
    // Reported before anything its tasks report (the reporter keeps the order), but the tasks
    // that waited for it need not wait for that report's commit.
    const reported = this.reporter.report({
      type: 'WorkerProcessStarted',
      version: 1,
      data: {
        workerId: request.id,
        hostId: this.hostId,
        pid: sandbox.pid,
      },
    });
    await reported;
  }

  // What is reported of a job answers its assignment (or its cancel): `cause` carries the
  // request's correlation id on.
  private async assign(assigned: JobAssignedV1, cause: EventCause): Promise<void> {
    const worker = this.workers.get(assigned.workerId);
    if (worker && !worker.stopping) {
      this.startTask(worker, assigned, cause);
      return;
    }
    if (worker?.stopping) {
      await this.finishUnrun(assigned.id, assigned.workerId, 'failed', 'its worker is stopping', cause);
      return;
    }
    // A worker's request comes before its jobs (one key, one partition): unknown here means it
    // was asked of an earlier run of this host (the same WORKER_HOST_ID), which is gone.
    await this.finishUnrun(
      assigned.id,
      assigned.workerId,
      'failed',
      'its worker never started on this host',
      cause,
    );
  }

  private startTask(worker: Worker, assigned: JobAssignedV1, cause: EventCause): void {
    if (worker.tasks.has(assigned.id)) return;
    const task: Task = {
      jobId: assigned.id,
      cause,
      running: undefined,
      cancelled: undefined,
      done: Promise.resolve(),
    };
    worker.tasks.set(assigned.id, task);
    task.done = this.runTask(worker, task, assigned).finally(() => this.taskEnded(worker, assigned.id));
  }

  private taskEnded(worker: Worker, jobId: string): void {
    if (!worker.tasks.delete(jobId)) return;
    // An exclusive worker exists for one job.
    if (worker.request.mode === 'exclusive' && worker.tasks.size === 0)
      void this.stopWorker(worker.request.id, 'its job ended');
  }

  private async runTask(worker: Worker, task: Task, assigned: JobAssignedV1): Promise<void> {
    const { id: jobId, workerId, task: spec } = assigned;
    const shipper = new LogShipper(this.bus, jobId, workerId, this.config.worker.maxLogBytes);
    const workDir = join(this.baseDir, 'jobs', jobId);
    let result: TaskResult;
    let finishedAt: Date | undefined;
    try {
      const programPath = await this.artifacts.materialize(spec.program.sha256, spec.program.artifact);
      // This job's secrets, for this job's process only; Spindle's own variables win a clash.
      const secretEnv = task.cancelled ? {} : await this.secrets.resolve(jobId, spec.secrets ?? []);
      // The job is its own allocation until service jobs give instances ids of their own.
      const loggersFile = await this.loggerFiles.open(jobId, workDir);
      if (task.cancelled) {
        result = { outcome: task.cancelled.outcome, error: task.cancelled.reason };
      } else {
        task.running = await worker.sandbox.run(
          {
            jobId,
            runtime: spec.program.runtime,
            programPath,
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
        const cancelledMeanwhile = task.cancelled as Task['cancelled'];
        if (cancelledMeanwhile) task.running.cancel(cancelledMeanwhile.reason);
        // Reported once the task really began in its process, with the host's own time.
        const startedAt = await task.running.started;
        if (startedAt)
          await this.reporter.report(
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
    this.loggerFiles.close(jobId);
    const log = await shipper.close();
    const reported = this.reporter.report(
      {
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
      },
      task.cause,
    );
    // Over as soon as its end is told: an exclusive worker's own end then follows in the same
    // commit of reports rather than one round trip later.
    this.taskEnded(worker, jobId);
    await reported;
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private async cancel(
    jobId: string,
    workerId: string,
    outcome: 'cancelled',
    reason: string,
    cause: EventCause,
  ): Promise<void> {
    const task = this.workers.get(workerId)?.tasks.get(jobId);
    if (task) {
      task.cancelled ??= { outcome, reason };
      task.running?.cancel(reason);
      return;
    }
    // Not (or no longer) running here: say so, so the job does not wait in `cancelling`.
    await this.finishUnrun(jobId, workerId, outcome, reason, cause);
  }

  private finishUnrun(
    jobId: string,
    workerId: string,
    outcome: TaskOutcome,
    error: string,
    cause: EventCause,
  ): Promise<void> {
    return this.reporter.report(
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

  // graceMs > 0 (or null: no limit): a graceful stop. The worker takes no new task (assign refuses
  // while it is stopping) and its running ones get that long to end before they are cancelled. A
  // stop without grace meanwhile (its host shutting down) cuts the wait short.
  private stopWorker(workerId: string, reason: string, graceMs: number | null = 0): Promise<void> {
    const worker = this.workers.get(workerId);
    if (!worker) return Promise.resolve();
    if (worker.stopping) {
      if (graceMs === 0) worker.endGrace?.();
      return worker.stopped ?? Promise.resolve();
    }
    worker.stopping = true;
    worker.stopped = this.endWorker(worker, reason, graceMs);
    return worker.stopped;
  }

  private async endWorker(worker: Worker, reason: string, graceMs: number | null): Promise<void> {
    const workerId = worker.request.id;
    if (graceMs !== 0 && worker.tasks.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = graceMs === null ? undefined : setTimeout(resolve, graceMs);
        const end = (): void => {
          clearTimeout(timer);
          resolve();
        };
        worker.endGrace = end;
        void Promise.all([...worker.tasks.values()].map((t) => t.done)).then(end);
      });
    }
    for (const task of worker.tasks.values()) {
      task.cancelled ??= { outcome: 'cancelled', reason: `its worker stopped: ${reason}` };
      task.running?.cancel(task.cancelled.reason);
    }
    await Promise.all([...worker.tasks.values()].map((t) => t.done));
    await worker.sandbox
      .stop()
      .catch((e: unknown) => this.logger.warn(`worker ${workerId} stop: ${String(e)}`));
    this.workers.delete(workerId);
    await this.reporter.report({
      type: 'WorkerProcessExited',
      version: 1,
      data: { workerId, hostId: this.hostId, reason },
    });
  }
}
