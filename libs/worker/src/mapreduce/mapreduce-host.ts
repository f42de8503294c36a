import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  EventTopics,
  MAPREDUCE_TASK_MAX_ATTEMPTS,
  hostStreamId,
  isMapReduceJobEvent,
  mapReduceTaskLogId,
  parseEvent,
} from '@spindle/contracts';
import type {
  MapReduceJobAssignedV1,
  MapReduceJobPlannedV1,
  MapReduceProgressedV1,
  MapReduceTaskAssignedV1,
  SpindleEvent,
} from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { DeliveredBatch, MessageBus, OutboxRelay, PostgresEventStore } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { AgentReporter } from '../agent/agent-reporter';
import { ArtifactCache } from '../agent/artifact-cache';
import { LogShipper } from '../agent/log-shipper';
import { SecretResolver } from '../agent/secret-resolver';
import { WorkerAgent } from '../agent/worker-agent';
import { WORKER_CONNECTION, WORKER_EVENT_STORE, WORKER_OUTBOX_RELAY } from '../agent/worker.tokens';
import { MapReduceRun } from './mapreduce-run';
import type { MapReduceOutcome, MapReduceProgress } from './mapreduce-run';
import { jobStorage, taskJobOf } from './job-storage';
import { PlacedAttempts } from './placed-attempts';
import { AttemptRunner, Slots } from './task-attempts';

interface Running {
  readonly run: MapReduceRun;
  readonly number: number;
  readonly placed: PlacedAttempts;
  readonly done: Promise<void>;
}

// A job as this host knows it from the job's stream: its current run, its splits, and the
// attempts of its tasks placed on this host.
interface KnownJob {
  assigned: MapReduceJobAssignedV1;
  plan?: MapReduceJobPlannedV1;
  readonly attempts: Map<string, AbortController>; // running here, by `<run>/<taskId>/<attempt>`
  readonly seen: Set<string>; // started here: a redelivered placement does not run twice
  runner?: { readonly run: number; readonly ready: Promise<{ runner: AttemptRunner; close(): void }> };
}

type Step = MapReduceProgressedV1['step'];

// Runs what the scheduler placed on this host, from the job events it reads (from the topic's
// start, every host): a MapReduce job's coordinator (MapReduceJobAssigned for this host and agent
// run: MapReduceRun, whose task attempts are reported ready for the scheduler to place) and the
// task attempts placed here (MapReduceTaskAssigned, whichever host coordinates the job), at most
// WORKER_SLOTS at once as processes here. A host runs an attempt with the job's definition (from
// MapReduceJobAssigned), its splits (MapReduceJobPlanned), its programs from the artifact store
// and its storage credentials from the secrets service (never in an event or a log); each
// attempt's output lines go to the log-collector, and every step is reported to the scheduler
// like the agent's own reports (its own stream, so the two writers never race). The coordinator
// learns how each attempt ended from the task events of its run. A stop request or the job's end
// kills the job's attempts here. When this host shuts down its runs and attempts end unreported:
// the scheduler sees the host go, places the job again elsewhere and fails its attempts.
@Injectable()
export class MapReduceHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger('mapreduce');
  private readonly runs = new Map<string, Running>();
  private readonly jobs = new Map<string, KnownJob>();
  private readonly attemptsDone = new Set<Promise<void>>();
  private readonly artifacts: ArtifactCache;
  private readonly slots: Slots;
  private readonly secrets: SecretResolver;
  private readonly reporter: AgentReporter;
  private shuttingDown = false;

  constructor(
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @InjectDataSource(WORKER_CONNECTION) dataSource: DataSource,
    @Inject(WORKER_EVENT_STORE) store: PostgresEventStore,
    @Inject(WORKER_OUTBOX_RELAY) relay: OutboxRelay,
    private readonly agent: WorkerAgent,
  ) {
    this.artifacts = new ArtifactCache(config, join(agent.jobTree.dir, 'artifacts'));
    this.slots = new Slots(config.worker.slots);
    const { hostId, incarnation } = agent;
    this.secrets = new SecretResolver(config, hostId);
    this.reporter = new AgentReporter(
      dataSource,
      store,
      relay,
      hostStreamId(hostId, `${incarnation}:mapreduce`),
    );
    // From the topic's start, in the agent run's group (a subscription of its own was a Kafka
    // consumer of its own, polling while idle): an assignment made before the subscription joined
    // is not missed (every assignment names the agent run it is for), and every job's definition
    // and splits are known before any of its attempts is placed here.
    agent.readFromRunStart(EventTopics.schedulerMapReduceJob, (batch) => this.handle(batch));
    // A coordinator or an attempt running here is work: the host beats every second meanwhile.
    agent.countWorkOf(() => this.runs.size > 0 || this.attemptsDone.size > 0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // The agent stops the run's subscription; from now on no assignment is taken.
    this.shuttingDown = true;
    for (const running of this.runs.values()) running.run.stop('its worker host shut down');
    for (const job of this.jobs.values()) this.stopAttempts(job, 'its worker host shut down');
    await Promise.all([...[...this.runs.values()].map((r) => r.done), ...this.attemptsDone]);
    for (const job of this.jobs.values()) this.closeRunner(job);
    await this.reporter.drain();
  }

  private async handle(batch: DeliveredBatch): Promise<void> {
    for (const message of batch.messages) {
      let event: SpindleEvent;
      try {
        event = parseEvent(JSON.parse(message.value));
      } catch {
        continue;
      }
      if (!isMapReduceJobEvent(event)) continue;
      const id = event.data.id;
      const job = this.jobs.get(id);
      switch (event.type) {
        case 'MapReduceJobAssigned':
          this.assigned(event.data, job);
          break;
        case 'MapReduceJobPlanned':
          // A later run plans the same splits again, and the decider records the first plan only.
          if (job && !job.plan) job.plan = event.data;
          break;
        case 'MapReduceTaskAssigned': {
          const mine =
            event.data.hostId === this.agent.hostId && event.data.incarnation === this.agent.incarnation;
          if (mine && job && job.assigned.run === event.data.run) this.runAttempt(job, event.data);
          break;
        }
        case 'MapReduceTaskSucceeded':
          this.runs.get(id)?.placed.ended(event.data.taskId, event.data.attempt, { state: 'succeeded' });
          break;
        case 'MapReduceTaskFailed':
          this.runs.get(id)?.placed.ended(event.data.taskId, event.data.attempt, {
            state: 'failed',
            error: event.data.error,
          });
          break;
        case 'MapReduceTaskStopped':
          this.runs.get(id)?.placed.ended(event.data.taskId, event.data.attempt, { state: 'stopped' });
          break;
        case 'MapReduceJobStopRequested':
          this.runs.get(id)?.run.stop(event.data.reason);
          if (job) this.stopAttempts(job, event.data.reason);
          break;
        case 'MapReduceJobSucceeded':
        case 'MapReduceJobFailed':
        case 'MapReduceJobStopped':
          if (job) {
            this.stopAttempts(job, 'the job ended');
            this.closeRunner(job);
            this.jobs.delete(id);
          }
          break;
        case 'MapReduceJobSubmitted':
        case 'MapReduceTaskReady':
        case 'MapReduceTaskStarted':
          break; // nothing for a host to do
        default: {
          const unknownEvent: never = event;
          throw new Error(`unexpected MapReduce event ${JSON.stringify(unknownEvent)}`);
        }
      }
    }
  }

  private assigned(assigned: MapReduceJobAssignedV1, job: KnownJob | undefined): void {
    if (job) {
      // A new run starts every task over: this host's attempts of the older run stop.
      this.stopAttempts(job, `the job was placed again (run ${assigned.run})`);
      this.closeRunner(job);
      job.assigned = assigned;
    } else this.jobs.set(assigned.id, { assigned, attempts: new Map(), seen: new Set() });
    const current = this.runs.get(assigned.id);
    const mine = assigned.hostId === this.agent.hostId && assigned.incarnation === this.agent.incarnation;
    if (current && current.number < assigned.run) {
      // Placed again (here too, when this host looked silent for a while): the older run stops,
      // its reports are ignored from now on, and the new run starts once it ended.
      current.run.stop(`the job was placed again (run ${assigned.run})`);
      if (mine) void current.done.then(() => this.coordinate(assigned));
    } else if (mine) this.coordinate(assigned);
  }

  // The job's coordinator: plans it and asks for its attempts, here or on any host.
  private coordinate(assigned: MapReduceJobAssignedV1): void {
    if (this.shuttingDown || this.runs.has(assigned.id)) return;
    const report = this.reporterOf(assigned.id, assigned.run);
    const entry: { done?: Promise<void> } = {};
    entry.done = (async () => {
      let outcome: MapReduceOutcome;
      try {
        const placed = new PlacedAttempts(({ taskId, kind, attempt }) =>
          report({ type: 'task-ready', taskId, kind, attempt }),
        );
        const run = await this.coordinator(assigned, placed);
        this.runs.set(assigned.id, { run, number: assigned.run, placed, done: entry.done! });
        outcome = await run.run();
      } catch (e) {
        outcome = { state: 'failed', error: e instanceof Error ? e.message : String(e) };
      }
      this.runs.delete(assigned.id);
      if (this.shuttingDown) return; // placed again elsewhere
      await report({ type: 'finished', outcome });
    })().catch((e: unknown) => this.logger.error(`MapReduce job ${assigned.id}: ${String(e)}`));
  }

  private async coordinator(assigned: MapReduceJobAssignedV1, placed: PlacedAttempts): Promise<MapReduceRun> {
    const { job } = assigned;
    const storage = await jobStorage(job, this.config.storage.allow, this.secrets);
    return new MapReduceRun(
      {
        jobId: job.id,
        ...storage,
        nReducers: job.nReducers,
        splitSize: job.splitSize,
        protocol: job.protocol,
      },
      this.progressOf(assigned.id, assigned.run),
      () => placed,
    );
  }

  // An attempt placed here: in this host's slots, with the job's programs and credentials fetched
  // once per run of the job.
  private runAttempt(job: KnownJob, task: MapReduceTaskAssignedV1): void {
    const key = `${task.run}/${task.taskId}/${task.attempt}`;
    if (this.shuttingDown || job.seen.has(key)) return;
    job.seen.add(key);
    const control = new AbortController();
    job.attempts.set(key, control);
    const index = Number(task.taskId.slice(task.taskId.lastIndexOf('-') + 1));
    const done = (async () => {
      try {
        const { runner } = await this.runnerOf(job, task.run);
        await runner.run(
          { taskId: task.taskId, kind: task.kind, index, attempt: task.attempt },
          control.signal,
        );
      } catch (e) {
        // It could not start here (a program, a secret, the storage): the attempt failed.
        if (this.shuttingDown || control.signal.aborted) return;
        const error = e instanceof Error ? e.message : String(e);
        const retried = task.attempt < MAPREDUCE_TASK_MAX_ATTEMPTS;
        const report = this.reporterOf(task.id, task.run);
        await report({ type: 'task-failed', taskId: task.taskId, attempt: task.attempt, error, retried });
      } finally {
        job.attempts.delete(key);
      }
    })().catch((e: unknown) => this.logger.error(`MapReduce task ${task.taskId}: ${String(e)}`));
    this.attemptsDone.add(done);
    void done.then(() => this.attemptsDone.delete(done));
  }

  private runnerOf(job: KnownJob, run: number): Promise<{ runner: AttemptRunner; close(): void }> {
    if (job.runner?.run !== run) {
      const ready = this.prepareRunner(job, run);
      // A runner that could not be made is tried again by the next attempt.
      ready.catch(() => {
        if (job.runner?.ready === ready) job.runner = undefined;
      });
      job.runner = { run, ready };
    }
    return job.runner.ready;
  }

  private async prepareRunner(job: KnownJob, run: number): Promise<{ runner: AttemptRunner; close(): void }> {
    const definition = job.assigned.job;
    if (!job.plan) throw new Error(`job ${definition.id} has no splits yet`);
    const prepared = await taskJobOf(definition, job.plan, {
      allow: this.config.storage.allow,
      secrets: this.secrets,
      artifacts: this.artifacts,
      workRoot: join(this.agent.jobTree.dir, this.agent.hostId, 'mapreduce', definition.id),
      confinement: this.agent.confinement,
    });
    const runner = new AttemptRunner(prepared.job, this.slots, this.progressOf(definition.id, run));
    return { runner, close: prepared.close };
  }

  private stopAttempts(job: KnownJob, reason: string): void {
    for (const attempt of job.attempts.values()) attempt.abort(reason);
  }

  // Its storage clients go once the attempts that use them ended.
  private closeRunner(job: KnownJob): void {
    const runner = job.runner;
    job.runner = undefined;
    if (!runner) return;
    const running = [...this.attemptsDone];
    void Promise.all([runner.ready, ...running]).then(
      ([prepared]) => prepared.close(),
      () => undefined,
    );
  }

  private reporterOf(jobId: string, run: number): (step: Step) => Promise<void> {
    return (step) =>
      this.reporter.report({ type: 'MapReduceProgressed', version: 1, data: { jobId, run, step } });
  }

  // A run's progress, coordinator's or attempts', as reports and task logs.
  private progressOf(jobId: string, run: number): (progress: MapReduceProgress) => void {
    const report = this.reporterOf(jobId, run);
    const logs = new Map<string, LogShipper>();
    const shipperOf = (taskId: string, attempt: number): LogShipper => {
      const key = mapReduceTaskLogId(taskId, run, attempt);
      let shipper = logs.get(key);
      if (!shipper) {
        shipper = new LogShipper(this.bus, key, this.agent.hostId, this.config.worker.maxLogBytes);
        logs.set(key, shipper);
      }
      return shipper;
    };
    const closeLog = (taskId: string, attempt: number): void => {
      const key = mapReduceTaskLogId(taskId, run, attempt);
      const shipper = logs.get(key);
      logs.delete(key);
      void shipper?.close();
    };
    return (p) => {
      switch (p.type) {
        case 'task-log':
          shipperOf(p.taskId, p.attempt).line(p.stream, p.line, new Date());
          return;
        case 'planned':
          void report({ type: 'planned', maps: [...p.maps], reducers: p.reducers });
          return;
        case 'task-started':
          shipperOf(p.taskId, p.attempt);
          void report(p);
          return;
        case 'task-succeeded':
        case 'task-failed':
        case 'task-stopped':
          closeLog(p.taskId, p.attempt);
          // An attempt that ends because this host shuts down is not reported: the scheduler
          // fails it as an attempt of a lost host.
          if (!this.shuttingDown) void report(p);
          return;
        default: {
          const unknownProgress: never = p;
          throw new Error(`unexpected MapReduce progress ${JSON.stringify(unknownProgress)}`);
        }
      }
    };
  }
}
