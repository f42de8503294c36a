import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { join, resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  EventTopics,
  MAPREDUCE_SECRET_KEYS,
  hostStreamId,
  isMapReduceJobEvent,
  mapReduceTaskLogId,
  parseEvent,
} from '@spindle/contracts';
import type { MapReduceJobAssignedV1, MapReduceProgressedV1, SpindleEvent } from '@spindle/contracts';
import { MESSAGE_BUS } from '@spindle/backbone';
import type {
  DeliveredBatch,
  MessageBus,
  OutboxRelay,
  PostgresEventStore,
  Subscription,
} from '@spindle/backbone';
import { SPINDLE_CONFIG, allowedStorageLocation } from '@spindle/platform';
import type { SpindleConfig, StorageCredentials } from '@spindle/platform';
import { AgentReporter } from '../agent/agent-reporter';
import { ArtifactCache } from '../agent/artifact-cache';
import { LogShipper } from '../agent/log-shipper';
import { SecretResolver } from '../agent/secret-resolver';
import { WorkerAgent } from '../agent/worker-agent';
import { WORKER_CONNECTION, WORKER_EVENT_STORE, WORKER_OUTBOX_RELAY } from '../agent/worker.tokens';
import { MapReduceRun } from './mapreduce-run';
import type { MapReduceOutcome, MapReduceProgress } from './mapreduce-run';

interface Running {
  readonly run: MapReduceRun;
  readonly number: number;
  readonly done: Promise<void>;
}

type Step = MapReduceProgressedV1['step'];

// Runs the MapReduce jobs the scheduler placed on this host (MapReduceJobAssigned for this host
// and agent run): the engine (MapReduceRun) with WORKER_SLOTS tasks at once as processes here,
// its programs from the artifact store, its storage credentials from the secrets service at
// start (never in an event or a log), each task attempt's output lines to the log-collector, and
// every step reported to the scheduler like the agent's own reports (its own stream, so the two
// writers never race). A stop request kills the job's running tasks. When this host shuts down its
// runs end unreported: the scheduler sees the host go and places the job again elsewhere.
@Injectable()
export class MapReduceHost implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('mapreduce');
  private readonly runs = new Map<string, Running>();
  private readonly artifacts: ArtifactCache;
  private secrets!: SecretResolver;
  private reporter!: AgentReporter;
  private subscription: Subscription | undefined;
  private shuttingDown = false;

  constructor(
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @InjectDataSource(WORKER_CONNECTION) private readonly dataSource: DataSource,
    @Inject(WORKER_EVENT_STORE) private readonly store: PostgresEventStore,
    @Inject(WORKER_OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly agent: WorkerAgent,
  ) {
    this.artifacts = new ArtifactCache(config, join(resolve(config.dataDir), 'worker', 'artifacts'));
  }

  async onModuleInit(): Promise<void> {
    const { hostId, incarnation } = this.agent;
    this.secrets = new SecretResolver(this.config, hostId);
    this.reporter = new AgentReporter(
      this.dataSource,
      this.store,
      this.relay,
      hostStreamId(hostId, `${incarnation}:mapreduce`),
    );
    // From the topic's start, with a group of this agent run: an assignment made before the
    // subscription joined is not missed (every assignment names the agent run it is for).
    this.subscription = await this.bus.subscribe(
      {
        groupId: `mapreduce-host.${hostId}.${incarnation}`,
        topics: [EventTopics.schedulerMapReduceJob],
        fromBeginning: true,
      },
      (batch) => this.handle(batch),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.subscription?.stop();
    for (const running of this.runs.values()) running.run.stop('its worker host shut down');
    await Promise.all([...this.runs.values()].map((r) => r.done));
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
      if (event.type === 'MapReduceJobAssigned') {
        const { hostId, incarnation } = event.data;
        const current = this.runs.get(event.data.id);
        const mine = hostId === this.agent.hostId && incarnation === this.agent.incarnation;
        if (current && current.number < event.data.run) {
          // Placed again (here too, when this host looked silent for a while): the older run
          // stops, its reports are ignored from now on, and the new run starts once it ended.
          current.run.stop(`the job was placed again (run ${event.data.run})`);
          if (mine) {
            const assigned = event.data;
            void current.done.then(() => this.start(assigned));
          }
        } else if (mine) this.start(event.data);
      } else if (event.type === 'MapReduceJobStopRequested') {
        this.runs.get(event.data.id)?.run.stop(event.data.reason);
      }
    }
  }

  private start(assigned: MapReduceJobAssignedV1): void {
    if (this.shuttingDown || this.runs.has(assigned.id)) return;
    const report = (step: Step): Promise<void> =>
      this.reporter.report({
        type: 'MapReduceProgressed',
        version: 1,
        data: { jobId: assigned.id, run: assigned.run, step },
      });
    const entry: { done?: Promise<void> } = {};
    entry.done = (async () => {
      let outcome: MapReduceOutcome;
      try {
        const run = await this.prepare(assigned, report);
        this.runs.set(assigned.id, { run, number: assigned.run, done: entry.done! });
        outcome = await run.run();
      } catch (e) {
        outcome = { state: 'failed', error: e instanceof Error ? e.message : String(e) };
      }
      this.runs.delete(assigned.id);
      if (this.shuttingDown) return; // placed again elsewhere
      await report({ type: 'finished', outcome });
    })().catch((e: unknown) => this.logger.error(`MapReduce job ${assigned.id}: ${String(e)}`));
  }

  private async prepare(assigned: MapReduceJobAssignedV1, report: (step: Step) => Promise<void>) {
    const { job } = assigned;
    const allow = this.config.storage.allow;
    const input = allowedStorageLocation(job.inputPath, allow, 'inputPath');
    const output = allowedStorageLocation(job.outputPath, allow, 'outputPath');
    const [mapperPath, reducerPath, inputCredentials, outputCredentials] = await Promise.all([
      this.artifacts.materialize(job.mapper.sha256, job.mapper.artifact),
      job.reducer ? this.artifacts.materialize(job.reducer.sha256, job.reducer.artifact) : null,
      this.credentials(job.id, job.inputSecretId),
      this.credentials(job.id, job.outputSecretId),
    ]);
    const logs = new Map<string, LogShipper>();
    const shipperOf = (taskId: string, attempt: number): LogShipper => {
      const key = mapReduceTaskLogId(taskId, assigned.run, attempt);
      let shipper = logs.get(key);
      if (!shipper) {
        shipper = new LogShipper(this.bus, key, this.agent.hostId, this.config.worker.maxLogBytes);
        logs.set(key, shipper);
      }
      return shipper;
    };
    const closeLog = (taskId: string, attempt: number): void => {
      const key = mapReduceTaskLogId(taskId, assigned.run, attempt);
      const shipper = logs.get(key);
      logs.delete(key);
      void shipper?.close();
    };
    const onProgress = (p: MapReduceProgress): void => {
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
          void report(p);
          return;
        default: {
          const unknownProgress: never = p;
          throw new Error(`unexpected MapReduce progress ${JSON.stringify(unknownProgress)}`);
        }
      }
    };
    return new MapReduceRun(
      {
        jobId: job.id,
        input,
        inputCredentials,
        output,
        outputCredentials,
        nReducers: job.nReducers,
        splitSize: job.splitSize,
        protocol: job.protocol,
        mapperPath,
        reducerPath,
        taskTimeoutMs: job.taskTimeoutMs,
        slots: this.config.worker.slots,
        workRoot: join(resolve(this.config.dataDir), 'worker', this.agent.hostId, 'mapreduce', job.id),
      },
      onProgress,
    );
  }

  private async credentials(jobId: string, secretId: string | null): Promise<StorageCredentials> {
    if (secretId === null) return { accessKeyId: '', secretAccessKey: '' };
    const env = await this.secrets.resolve(jobId, [{ id: secretId }]);
    const accessKeyId = env[MAPREDUCE_SECRET_KEYS.accessKeyId];
    const secretAccessKey = env[MAPREDUCE_SECRET_KEYS.secretAccessKey];
    if (accessKeyId === undefined || secretAccessKey === undefined)
      throw new Error(
        `secret ${secretId} must hold ${MAPREDUCE_SECRET_KEYS.accessKeyId} and ${MAPREDUCE_SECRET_KEYS.secretAccessKey}`,
      );
    return { accessKeyId, secretAccessKey };
  }
}
