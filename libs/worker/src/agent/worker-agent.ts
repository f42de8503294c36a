import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  DataTopics,
  EventTopics,
  HEARTBEAT_MS,
  isClusterConfigEvent,
  isJobEvent,
  isWorkerEvent,
  parseEvent,
} from '@spindle/contracts';
import type { HostHeartbeat, JobEvent, SpindleEvent, WorkerEvent } from '@spindle/contracts';
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
  FileSystemView,
  JobCgroups,
  JobUserPool,
  Spawner,
  copyRuntimeFiles,
  jobTreeOf,
  readableByJobs,
  traversableForJobs,
} from '../sandbox';
import type { HostConfinement, JobTree, RuntimeFiles } from '../sandbox';
import { AgentReporter } from './agent-reporter';
import { removeStaleHostDirectories } from './host-directories';
import { ArtifactCache } from './artifact-cache';
import { HostWorkers } from './host-workers';
import { LoggerFiles } from './logger-files';
import { SecretResolver } from './secret-resolver';
import { TaskRunner } from './task-runner';
import { WORKER_CONNECTION, WORKER_EVENT_STORE, WORKER_OUTBOX_RELAY } from './worker.tokens';

// A host with no work beats this often (one with work every HEARTBEAT_MS), each heartbeat saying
// when the next is due, so that the readers allow it that much more silence. Each beat is a Kafka
// produce and a fetch answered in each of two listeners: beating every second was about half of
// what an idle node topology spent (2026-12-06: 1.3-1.8 % of a core, 0.8-1.1 % with an idle host
// beating every 5 s; BENCHMARKS.md). The cost: a host that dies with no work is taken for gone up
// to 4 s later, so a job placed on it meanwhile waits that much longer to be placed again. A host
// that gets work keeps the allowance of its last beat until its next.
const IDLE_HEARTBEAT_MS = 5_000;
// How long a stopping host waits for its last beat (`stopping: true`) to reach the broker. The
// beat only spares the scheduler the silence limit; with the broker away, the producer's retries
// (about 25 s) held the whole shutdown, and a supervisor kills a part after 10 s.
const STOPPING_BEAT_WAIT_MS = 2_000;
// The scheduler's events a worker host acts on (apply, below).
const FOR_HOSTS: ReadonlySet<string> = new Set([
  'WorkerRequested',
  'WorkerStopRequested',
  'JobAssigned',
  'JobCancelRequested',
]);

// The agent of one worker host: the host's run from start to shutdown. It announces the host with
// heartbeats, reads what the scheduler addresses to it (the host topic) and the logger levels,
// and hands each event to the host's workers (host-workers.ts), whose tasks the task runner runs
// (task-runner.ts). What happened is reported through the AgentReporter.
@Injectable()
export class WorkerAgent implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('worker-agent');
  readonly hostId: string;
  readonly incarnation = randomUUID();
  private readonly startedAt = new Date().toISOString();
  private readonly baseDir: string;
  // Where job processes' directories and programs lie (this host's, MapReduce's too): job users
  // reach them.
  readonly jobTree: JobTree;
  private readonly artifacts: ArtifactCache;
  private readonly secrets: SecretResolver;
  // Null when jobs run as Spindle's own user (not root, SPINDLE_JOB_USERS=0, or a job tree other
  // users cannot reach: confineJobs).
  private jobUsers: JobUserPool | null;
  // Where job processes read the runners' bootstrap and the helpers: the checkout's, or a copy.
  private runtimeFiles: RuntimeFiles = CHECKOUT_RUNTIME_FILES;
  // Null when the host gives job processes no cgroups (confineJobs says why).
  private cgroups: JobCgroups | null = null;
  // Null when job processes see the file system as it is (openView says why).
  private view: FileSystemView | null = null;
  private reporter!: AgentReporter;
  private workers!: HostWorkers;
  private subscription: Subscription | undefined;
  // The topics every run of the agent reads from their start, each with its handler: the logger
  // levels (applyLoggers) and MapReduce's jobs (mapreduce-host.ts). One subscription for them all:
  // each Kafka consumer polls the broker while idle (a held fetch, a group heartbeat every 3 s).
  private readonly runTopics = new Map<string, (batch: DeliveredBatch) => Promise<void>>([
    [EventTopics.schedulerClusterConfig, (batch) => this.applyLoggers(batch)],
  ]);
  private runSubscription: Subscription | undefined;
  private readonly loggerFiles = new LoggerFiles();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  // What the agent's neighbours run on this host besides its workers (MapReduce's runs and
  // attempts): while any has some, the host has work (see IDLE_HEARTBEAT_MS).
  private readonly otherWork: (() => boolean)[] = [];
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
    const stale = await removeStaleHostDirectories(this.jobTree.dir, hostname(), this.hostId);
    if (stale.length > 0)
      this.logger.log(
        `removed what earlier runs of worker hosts left in ${this.jobTree.dir}: ${stale.join(', ')}`,
      );
    await this.confineJobs();
    // Job processes start from a small process beside the agent, so that this large one never
    // forks per job; started now, so that the first job does not wait for it.
    Spawner.shared.start();
    if (Spawner.shared.forksInAgent)
      this.logger.warn(
        'python3 is not on PATH, so there is no job spawner: exec and jvm job processes fork from this process, ' +
          'which costs each such job about 40 ms of its event loop (install python3 for the spawner)',
      );
    else this.logger.log(`exec and jvm job processes start from the spawner, pid ${Spawner.shared.pid}`);
    this.reporter = AgentReporter.forHost(
      this.dataSource,
      this.store,
      this.relay,
      this.hostId,
      this.incarnation,
    );
    this.workers = new HostWorkers({
      hostId: this.hostId,
      incarnation: this.incarnation,
      baseDir: this.baseDir,
      confinement: this.confinement,
      reporter: this.reporter,
      tasks: new TaskRunner(this.config, this.bus, {
        artifacts: this.artifacts,
        secrets: this.secrets,
        loggerFiles: this.loggerFiles,
        reporter: this.reporter,
      }),
    });
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
    // holds the whole document), so a task starts with the levels in force, and the other topics
    // of its run (readFromRunStart). A group of its own per run (a run must not resume another's
    // position, nor share partitions with a dead run's member until its session times out),
    // committing no offsets: Kafka drops it when the run leaves.
    const runTopics = new Map(this.runTopics);
    this.runSubscription = await this.bus.subscribe(
      {
        groupId: `worker-agent-run.${this.hostId}.${this.incarnation}`,
        topics: [...runTopics.keys()],
        fromBeginning: true,
        commitOffsets: 'never',
      },
      (batch) => runTopics.get(batch.topic)!(batch),
    );
    // Announce the host only once its events reach it: nothing is placed here before.
    void ready.then(() => this.startHeartbeats());
  }

  // How this host confines the processes it starts for jobs, once the module is initialised (the
  // agent's settings and what the host allows): its workers' and MapReduce task programs alike.
  get confinement(): HostConfinement {
    const { network, limits } = this.config.worker.confinement;
    return {
      policy: { separateUsers: this.jobUsers !== null, network, limits },
      users: this.jobUsers,
      runtimeFiles: this.runtimeFiles,
      cgroups: this.cgroups,
      view: this.view,
    };
  }

  // A cgroup per job process bounds its memory and takes whatever it leaves behind when it ends.
  // Without them (not root, SPINDLE_JOB_CGROUPS=off), or without a memory controller in either
  // hierarchy, a memory limit cannot hold: the agent says which bounds hold, loudly when one asked
  // for does not.
  private openCgroups(): void {
    const { limits, cgroups } = this.config.worker.confinement;
    const opened =
      cgroups === 'off'
        ? 'SPINDLE_JOB_CGROUPS=off'
        : JobCgroups.open(`${this.hostId}-${this.incarnation.slice(0, 8)}`, limits, { hierarchies: cgroups });
    if (typeof opened !== 'string') {
      this.cgroups = opened;
      const message = `every job process runs in a cgroup of its own (${opened.describe()})`;
      if (limits.memoryBytes !== null && opened.at('memory') === null)
        this.logger.warn(`${message}: SPINDLE_JOB_MAX_MEMORY_MB is NOT enforced (docs/security.md)`);
      else this.logger.log(message);
      return;
    }
    const message = `job processes get no cgroups (${opened}): a job's leftover processes end with its process group only`;
    if (limits.memoryBytes !== null)
      this.logger.warn(`${message}, and SPINDLE_JOB_MAX_MEMORY_MB is NOT enforced (docs/security.md)`);
    else this.logger.log(message);
  }

  // Job users need a way in: the runners' files are copied where they can read them, and when the
  // job tree, the artifact cache or that copy still lie behind a directory other users cannot
  // pass, jobs run as Spindle's own user (the log says why).
  private async confineJobs(): Promise<void> {
    this.openCgroups();
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
    this.openView();
  }

  // Job processes see the file system read-only but for their own directories, a private /tmp
  // and /dev/shm: as root with job users (root in the view could undo it) where mount namespaces
  // work. SPINDLE_JOB_FS=readonly insists: the agent does not start without it.
  private openView(): void {
    const setting = this.config.worker.confinement.fileSystem;
    const opened = this.jobUsers
      ? FileSystemView.open(setting, [
          this.jobTree.dir,
          this.runtimeFiles.bootstrapDir,
          this.runtimeFiles.helpersDir,
        ])
      : 'jobs do not run as job users';
    if (typeof opened !== 'string') {
      this.view = opened;
      this.logger.log(
        'every job process sees the file system read-only but for its own directory, a private /tmp and /dev/shm',
      );
      return;
    }
    if (setting === 'readonly')
      throw new Error(`SPINDLE_JOB_FS=readonly, but job processes can get no read-only view: ${opened}`);
    this.logger.log(`job processes see the file system as it is (${opened}): only permissions keep them out`);
  }

  // Reads `topic` from its start in every run of the agent, in the run's one group (above); called
  // by the agent's neighbours in their constructors, before the run's subscription starts.
  readFromRunStart(topic: string, handler: (batch: DeliveredBatch) => Promise<void>): void {
    if (this.runSubscription) throw new Error(`the agent run reads its topics already: ${topic} is too late`);
    this.runTopics.set(topic, handler);
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
    clearTimeout(this.heartbeatTimer);
    this.workers.close();
    await Promise.race([this.beat(HEARTBEAT_MS), sleep(STOPPING_BEAT_WAIT_MS, undefined, { ref: false })]);
    await this.subscription?.stop();
    await this.runSubscription?.stop();
    await this.workers.stopAll('its worker host shut down');
    await this.reporter.drain();
    // This run's workers are gone, and so are their directories: the host's goes too.
    await rm(this.baseDir, { recursive: true, force: true }).catch(() => undefined);
    const leaf = this.cgroups?.close();
    if (leaf) this.logger.log(leaf);
    this.view?.close();
  }

  // Tells the agent how to see whether a neighbour has work on this host (see otherWork); called
  // by the neighbours in their constructors.
  countWorkOf(hasWork: () => boolean): void {
    this.otherWork.push(hasWork);
  }

  // Beats now, and again when this beat says: the next timer is set before the beat is sent, so a
  // slow send does not stretch the interval.
  private startHeartbeats(): void {
    if (this.stopping) return;
    const idle = this.workers.list().length === 0 && !this.otherWork.some((hasWork) => hasWork());
    const nextBeatMs = idle ? IDLE_HEARTBEAT_MS : HEARTBEAT_MS;
    this.heartbeatTimer = setTimeout(() => this.startHeartbeats(), nextBeatMs);
    void this.beat(nextBeatMs);
  }

  private async beat(nextBeatMs: number): Promise<void> {
    const heartbeat: HostHeartbeat = {
      installation: installationOf(this.config),
      hostId: this.hostId,
      incarnation: this.incarnation,
      hostname: hostname(),
      agentPid: process.pid,
      slots: this.config.worker.slots,
      startedAt: this.startedAt,
      sentAt: new Date().toISOString(),
      workers: this.workers.list(),
      stopping: this.stopping,
      nextBeatMs,
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
        if (event.data.hostId === this.hostId) await this.workers.start(event.data);
        break;
      case 'WorkerStopRequested':
        if (event.data.hostId === this.hostId)
          void this.workers.stop(event.data.id, event.data.reason, event.data.graceMs ?? 0);
        break;
      case 'JobAssigned':
        if (event.data.hostId === this.hostId) await this.workers.assign(event.data, event);
        break;
      case 'JobCancelRequested':
        if (event.data.hostId === this.hostId)
          await this.workers.cancel(event.data.id, event.data.workerId, 'cancelled by request', event);
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
}
