import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, QueryRunner } from 'typeorm';
import { functionStreamId, jobStreamId, newEventId } from '@spindle/contracts';
import type { ContextSettings, JobSubmittedV1, JobTask, MessageMetadata } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { jobCommands } from '../jobs/domain/job.decider';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';

const s = `"${SCHEDULER_SCHEMA}"`;
const TICK_MS = 250;
// A task's own process enforces performTimeout; this is the backstop when no report comes.
const PERFORM_BACKSTOP_GRACE_MS = 10_000;
// An exclusive worker stops after its one job; one that is still idle after this was forgotten.
const EXCLUSIVE_IDLE_LIMIT_MS = 30_000;
const QUEUE_SCAN = 200;

interface Host {
  readonly id: string;
  readonly incarnation: string;
  free: number;
}

// Places queued jobs on workers, and keeps time: start and perform timeouts, idle workers, silent
// hosts. One scheduler instance leads (a session advisory lock), so two never place the same slot;
// every decision is a command on the job's or worker's stream, so a lost race is refused by the
// stream, never applied twice.
//
// Per context, FIFO: `exclusive` starts a fresh worker for every job, at most maxJobs at once;
// `shared` keeps a pool of long-lived workers, each running up to maxJobs jobs at once: it grows by
// one when every worker is full and jobs wait (as far as the hosts' slots allow), every worker
// stops after `downtime` idle, and a `precreated` context keeps one from the start. Workers go to
// the live host with the most free slots.
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('dispatcher');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private leader: QueryRunner | undefined;
  private leaderCheckedAt = 0;
  private leadingSince = 0;

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    private readonly commands: SchedulerCommandsService,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.commands.onCommitted(() => this.wake());
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.leader?.release().catch(() => undefined);
    this.leader = undefined;
  }

  // Something changed (a submit, a finish): look again now rather than at the next tick.
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.again = false;
    this.running = this.pass().catch((e: unknown) => {
      this.logger.warn(`dispatch pass failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
    });
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(this.again ? 0 : TICK_MS);
  }

  private async pass(): Promise<void> {
    if (!(await this.holdLeadership())) return;
    await this.loseSilentHosts();
    await this.expireQueued();
    await this.expireRunning();
    await this.stopIdleWorkers();
    await this.dispatchQueued();
    await this.precreateWorkers();
  }

  private metadata(): MessageMetadata {
    return { correlationId: `dispatcher-${newEventId()}`, causationId: null };
  }

  // A host that stopped heartbeating (or came back as a new incarnation) took its processes with
  // it: what ran there goes back in its queue where its function allows a retry, else fails; its
  // workers are forgotten. Jobs never stay running forever.
  private async loseSilentHosts(): Promise<void> {
    const limitMs = this.config.scheduler.hostSilenceLimitMs;
    // A freshly elected leader may be reading heartbeats that queued while nobody listened.
    if (Date.now() - this.leadingSince < limitMs) return;
    const lost: { worker_id: string; host_id: string }[] = await this.dataSource.query(
      `select w.id as worker_id, w.host_id from ${s}.dispatch_workers w
       left join ${s}.hosts h on h.id = w.host_id
       where h.id is null or h.incarnation <> w.incarnation
          or h.last_seen < now() - make_interval(secs => $1::double precision / 1000)`,
      [limitMs],
    );
    for (const { worker_id: workerId, host_id: hostId } of lost) {
      const reason = `worker host ${hostId} stopped responding`;
      const jobs: { id: string }[] = await this.dataSource.query(
        `select id from ${s}.dispatch_jobs where worker_id = $1`,
        [workerId],
      );
      for (const job of jobs) {
        // Its function's retry policy decides whether it goes back in its queue or fails.
        const retries = await this.retryPolicyOf(job.id);
        await this.commands.run(
          jobCommands,
          { kind: 'lose', id: job.id, workerId, reason, retries },
          this.metadata(),
        );
      }
      await this.commands.run(workerCommands, { kind: 'stopped', id: workerId, reason }, this.metadata());
      this.logger.warn(`${reason}: worker ${workerId} lost with ${jobs.length} job(s)`);
    }
  }

  private async expireQueued(): Promise<void> {
    const due: { id: string }[] = await this.dataSource.query(
      `select id from ${s}.dispatch_jobs where state = 'queued' and start_deadline < now()`,
    );
    for (const { id } of due)
      await this.commands.run(jobCommands, { kind: 'expire-start', id }, this.metadata());
  }

  private async expireRunning(): Promise<void> {
    const due: { id: string }[] = await this.dataSource.query(
      `select id from ${s}.dispatch_jobs
       where state = 'running' and perform_timeout_ms is not null
         and started_at + make_interval(secs => (perform_timeout_ms + $1)::double precision / 1000) < now()`,
      [PERFORM_BACKSTOP_GRACE_MS],
    );
    for (const { id } of due)
      await this.commands.run(jobCommands, { kind: 'expire-perform', id }, this.metadata());
  }

  private async stopIdleWorkers(): Promise<void> {
    // A precreated context keeps its oldest shared worker; the others of its pool go like any.
    const idle: { id: string }[] = await this.dataSource.query(
      `select w.id from ${s}.dispatch_workers w join ${s}.dispatch_contexts c on c.name = w.context
       where w.state = 'running' and w.idle_since is not null
         and ((w.mode = 'shared'
               and not (coalesce((c.settings->>'precreated')::boolean, false) and w.id = (
                 select k.id from ${s}.dispatch_workers k
                 where k.context = w.context and k.mode = 'shared' and k.state in ('starting', 'running')
                 order by k.requested_at, k.id limit 1))
               and c.settings->>'downtimeMs' is not null
               and w.idle_since + make_interval(secs => (c.settings->>'downtimeMs')::double precision / 1000) < now())
           or (w.mode = 'exclusive' and w.idle_since + make_interval(secs => $1::double precision / 1000) < now())
           or c.deleted)`,
      [EXCLUSIVE_IDLE_LIMIT_MS],
    );
    for (const { id } of idle)
      await this.commands.run(workerCommands, { kind: 'stop', id, reason: 'idle' }, this.metadata());
  }

  private async liveHosts(): Promise<Host[]> {
    const rows: { id: string; incarnation: string; free: number }[] = await this.dataSource.query(
      `select h.id, h.incarnation, h.slots - count(w.id)::int as free
       from ${s}.hosts h left join ${s}.dispatch_workers w on w.host_id = h.id
       where not h.stopping and h.last_seen >= now() - make_interval(secs => $1::double precision / 1000)
       group by h.id, h.incarnation, h.slots
       order by free desc, h.id`,
      [this.config.scheduler.hostSilenceLimitMs],
    );
    return rows.map((r) => ({ id: r.id, incarnation: r.incarnation, free: Number(r.free) }));
  }

  private async dispatchQueued(): Promise<void> {
    const contexts: { context: string; settings: ContextSettings | null; deleted: boolean | null }[] =
      await this.dataSource.query(
        `select distinct j.context, c.settings, c.deleted from ${s}.dispatch_jobs j
         left join ${s}.dispatch_contexts c on c.name = j.context where j.state = 'queued'`,
      );
    if (contexts.length === 0) return;
    const hosts = await this.liveHosts();
    for (const { context, settings, deleted } of contexts) {
      const queued: { id: string }[] = await this.dataSource.query(
        `select id from ${s}.dispatch_jobs where context = $1 and state = 'queued' order by seq limit $2`,
        [context, QUEUE_SCAN],
      );
      if (!settings || deleted) {
        for (const { id } of queued)
          await this.commands.run(
            jobCommands,
            { kind: 'refuse', id, reason: `context ${context} was deleted` },
            this.metadata(),
          );
        continue;
      }
      if (settings.workerMode === 'exclusive') await this.placeExclusive(context, settings, queued, hosts);
      else await this.placeShared(context, settings, queued, hosts);
    }
  }

  private async placeExclusive(
    context: string,
    settings: ContextSettings,
    queued: readonly { id: string }[],
    hosts: Host[],
  ): Promise<void> {
    const [row] = await this.dataSource.query<{ active: number }[]>(
      `select count(*)::int as active from ${s}.dispatch_jobs where context = $1 and state <> 'queued'`,
      [context],
    );
    let active = Number(row?.active ?? 0);
    for (const { id } of queued) {
      if (active >= settings.maxJobs) return;
      const host = hosts.find((h) => h.free > 0);
      if (!host) return;
      const task = await this.taskOf(id);
      if (!task) continue;
      const workerId = await this.requestWorker(context, settings, 'exclusive', host);
      const assigned = await this.commands.run(
        jobCommands,
        { kind: 'assign', id, workerId, hostId: host.id, task },
        this.metadata(),
      );
      if (!assigned.ok) {
        // Cancelled or expired meanwhile: the fresh worker is not needed.
        await this.commands.run(
          workerCommands,
          { kind: 'stop', id: workerId, reason: 'unused' },
          this.metadata(),
        );
        continue;
      }
      active++;
    }
  }

  // A pool per context: jobs fill the oldest worker with room first (so the newest ones are the
  // first to fall idle), and when every worker is full and jobs still wait, one more is started
  // on the host with the most free slots.
  private async placeShared(
    context: string,
    settings: ContextSettings,
    queued: readonly { id: string }[],
    hosts: Host[],
  ): Promise<void> {
    const rows: { id: string; host_id: string; max_jobs: number; active: number }[] =
      await this.dataSource.query(
        `select w.id, w.host_id, w.max_jobs, count(j.id)::int as active
         from ${s}.dispatch_workers w left join ${s}.dispatch_jobs j on j.worker_id = w.id
         where w.context = $1 and w.mode = 'shared' and w.state in ('starting', 'running')
         group by w.id, w.host_id, w.max_jobs, w.requested_at order by w.requested_at, w.id`,
        [context],
      );
    const pool = rows.map((r) => ({
      id: r.id,
      hostId: r.host_id,
      free: r.max_jobs - Number(r.active),
      fresh: false,
    }));
    for (const { id } of queued) {
      const task = await this.taskOf(id);
      if (!task) continue;
      let worker = pool.find((w) => w.free > 0);
      if (!worker) {
        const host = hosts.find((h) => h.free > 0);
        if (!host) return; // the pool is as large as the hosts allow
        const workerId = await this.requestWorker(context, settings, 'shared', host);
        worker = { id: workerId, hostId: host.id, free: settings.maxJobs, fresh: true };
        pool.push(worker);
      }
      const assigned = await this.commands.run(
        jobCommands,
        { kind: 'assign', id, workerId: worker.id, hostId: worker.hostId, task },
        this.metadata(),
      );
      if (assigned.ok) {
        worker.free--;
        worker.fresh = false;
      } else if (worker.fresh) {
        // Cancelled or expired meanwhile: the worker started for it is not needed.
        await this.commands.run(
          workerCommands,
          { kind: 'stop', id: worker.id, reason: 'unused' },
          this.metadata(),
        );
        pool.splice(pool.indexOf(worker), 1);
      }
    }
  }

  // The job as submitted: its first event.
  private async taskOf(id: string): Promise<JobTask | null> {
    const rows: { data: JobSubmittedV1 }[] = await this.dataSource.query(
      `select data from ${s}.events where stream_id = $1 and stream_position = 1`,
      [jobStreamId(id)],
    );
    const submitted = rows[0]?.data;
    if (!submitted) return null;
    const { function: fn, context, args, program, performTimeoutMs } = submitted;
    return { function: fn, context, args, program, performTimeoutMs };
  }

  // The retry policy the job was submitted with; a job recorded without one follows its function's
  // current policy.
  private async retryPolicyOf(id: string): Promise<number> {
    const rows: { data: JobSubmittedV1 }[] = await this.dataSource.query(
      `select data from ${s}.events where stream_id = $1 and stream_position = 1`,
      [jobStreamId(id)],
    );
    const submitted = rows[0]?.data;
    if (!submitted) return 0;
    if (submitted.retries !== undefined) return submitted.retries;
    const fn: { type: string; data: { retries?: number } }[] = await this.dataSource.query(
      `select type, data from ${s}.events where stream_id = $1 order by stream_position desc limit 1`,
      [functionStreamId(submitted.function)],
    );
    return fn[0] && fn[0].type !== 'FunctionDeleted' ? (fn[0].data.retries ?? 0) : 0;
  }

  // Shared contexts marked `precreated` keep a worker up even before their first job.
  private async precreateWorkers(): Promise<void> {
    const wanting: { name: string; settings: ContextSettings }[] = await this.dataSource.query(
      `select c.name, c.settings from ${s}.dispatch_contexts c
       where not c.deleted and c.settings->>'workerMode' = 'shared'
         and coalesce((c.settings->>'precreated')::boolean, false)
         and not exists (select 1 from ${s}.dispatch_workers w
                         where w.context = c.name and w.mode = 'shared' and w.state in ('starting', 'running'))`,
    );
    if (wanting.length === 0) return;
    const hosts = await this.liveHosts();
    for (const { name, settings } of wanting) {
      const host = hosts.find((h) => h.free > 0);
      if (!host) return;
      await this.requestWorker(name, settings, 'shared', host);
    }
  }

  private async requestWorker(
    context: string,
    settings: ContextSettings,
    mode: 'shared' | 'exclusive',
    host: Host,
  ): Promise<string> {
    const id = newEventId();
    await this.commands.run(
      workerCommands,
      {
        kind: 'request',
        id,
        worker: {
          id,
          context,
          mode,
          hostId: host.id,
          hostIncarnation: host.incarnation,
          maxJobs: mode === 'shared' ? settings.maxJobs : 1,
          runOptions: settings.runOptions,
        },
      },
      this.metadata(),
    );
    host.free--;
    return id;
  }

  private async holdLeadership(): Promise<boolean> {
    if (this.leader) {
      if (Date.now() - this.leaderCheckedAt < 1_000) return true;
      try {
        await this.leader.query('select 1');
        this.leaderCheckedAt = Date.now();
        return true;
      } catch {
        await this.leader.release().catch(() => undefined);
        this.leader = undefined;
      }
    }
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [row] = (await runner.query('select pg_try_advisory_lock($1, 0) as locked', [
        ADVISORY_LOCK_CLASS.dispatcher,
      ])) as { locked: boolean }[];
      if (row?.locked) {
        this.leader = runner;
        this.leaderCheckedAt = Date.now();
        this.leadingSince = Date.now();
        this.logger.log('leading: dispatching jobs');
        return true;
      }
    } catch (e) {
      await runner.release().catch(() => undefined);
      throw e;
    }
    await runner.release();
    return false;
  }
}
