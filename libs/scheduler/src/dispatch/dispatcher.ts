import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { isContextEvent, isGroupEvent, newEventId } from '@spindle/contracts';
import type { ContextSettings, MessageMetadata, SpindleEvent, WorkerRequestedV1 } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS, LeaderDuty, commandFor, onHostsChanged } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { jobCommands } from '../jobs/domain/job.decider';
import { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';
import { FREE_SLOTS_SQL, HOST_HEARD_SQL } from './host-slots';
import { placedJobsSql, poolWorkersSql } from './pool-sql';
import { DispatchHousekeeping } from './housekeeping';
import { planExclusive, planKeptWorkers, planShared } from './placement';
import type { HostSlots, Placement, PoolWorker } from './placement';

const s = `"${SCHEDULER_SCHEMA}"`;
// The safety net: a pass is due at every commit of a scheduler (in-process, or notified by
// Postgres from another), every change of a host's room (notified), and when the next timeout,
// idle worker or silent host falls due; with none of those, a pass this often anyway (and a
// standby scheduler tries the lead this often).
const TICK_MS = 5_000;
// Timeouts, idle workers and silent hosts are looked at no more often than this, however often
// commits wake the dispatcher to place jobs.
const HOUSEKEEPING_MS = 250;
// The jobs of one context looked at per pass: a pass places at most this many of them.
const QUEUE_SCAN = 500;

// Events that change nothing a pass reads: a job that starts stays placed on its worker, and a
// worker counts in its pool and on its host from its request on ('starting' and 'running' alike).
// A shared job's start is reported alone, and each such commit woke a pass that placed nothing
// (0.4 passes per job).
const PLACEMENT_NEUTRAL: ReadonlySet<string> = new Set(['JobStarted', 'WorkerStarted', 'WorkerPidChanged']);
const NONE_BLOCKED: ReadonlySet<string> = new Set();
// Whether a commit calls for a pass. While the last pass found jobs waiting, anything but the
// neutral events may let one be placed (a job that ends frees its slot). With none waiting, only
// what adds to a queue or changes a context does: a job submitted and not placed on its submit
// (submit-placement.ts), a job put back, a context or group created, changed or retired. A pass
// woken by every job's end held the placement lock just when submits wanted it.
// A job submitted into a `blocked` queue (one whose jobs the last pass found no room for: its
// maxJobs placed, or no free slot on any host nor room in its pool) calls for no pass either: it
// waits behind them, and what makes room (a job's end, a worker's stop, a host's change, the
// context's settings) wakes a pass of its own. With a backlog, every submit's commit woke a pass
// that could place nothing (42 a second at 700 submits/s with no host: a tenth of the submit's
// cost in Postgres, where the pass's read is planned anew each time).
export function needsPass(
  appended: readonly SpindleEvent[],
  waiting: boolean,
  blocked: ReadonlySet<string> = NONE_BLOCKED,
): boolean {
  const assigned = new Set(appended.filter((e) => e.type === 'JobAssigned').map((e) => e.streamId));
  const submitted = new Set(appended.filter((e) => e.type === 'JobSubmitted').map((e) => e.streamId));
  // Recorded and assigned in one commit: nothing left to place, and no room freed.
  const placedOnSubmit = (e: SpindleEvent): boolean =>
    (e.type === 'JobSubmitted' || e.type === 'JobAssigned') &&
    assigned.has(e.streamId) &&
    submitted.has(e.streamId);
  const behindBlocked = (e: SpindleEvent): boolean =>
    e.type === 'JobSubmitted' && blocked.has((e.data as { context: string }).context);
  if (waiting)
    return appended.some((e) => !PLACEMENT_NEUTRAL.has(e.type) && !placedOnSubmit(e) && !behindBlocked(e));
  return appended.some(
    (e) =>
      (e.type === 'JobSubmitted' && !placedOnSubmit(e)) ||
      e.type === 'JobRequeued' ||
      isContextEvent(e) ||
      isGroupEvent(e),
  );
}

interface Snapshot {
  readonly queues: {
    context: string;
    settings: ContextSettings | null;
    deleted: boolean | null;
    // No room for any of its jobs now (its maxJobs placed, or no free host slot nor pool room).
    blocked: boolean;
    ids: string[];
    // Each queued job's submit: its placement carries the submit's correlation id and is caused
    // by it, so one request's events can be followed from the HTTP call to the job's end.
    causes: Record<string, MessageMetadata>;
  }[];
  readonly hosts: HostSlots[];
  readonly pools: Map<string, PoolWorker[]>;
  readonly placed: Map<string, number>;
}

// Places queued jobs on workers, and keeps time: start and perform timeouts, idle workers, silent
// hosts (see DispatchHousekeeping). One scheduler instance leads (a session advisory lock), so two
// never place the same slot; every decision is a command on the job's or worker's stream, so a
// lost race is refused by the stream, never applied twice. A pass places every job it can at once:
// one read for all queues, then the workers it needs and the assignments as one batch of commands
// (SchedulerCommandsService.runMany), many per transaction.
//
// Per context, FIFO, at most maxJobs of its jobs placed at once whatever the mode: `exclusive`
// starts a fresh worker for every job; `shared` keeps a pool of long-lived workers, each running up
// to maxJobs jobs at once: it grows by one when no worker has room and jobs wait (a worker
// stopping, a silent host; as far as the hosts' slots allow), every worker
// stops after `downtime` idle, and a `precreated` context keeps one from the start. Workers go to
// the live host with the most free slots.
@Injectable()
export class Dispatcher extends LeaderDuty {
  private housekeptAt = 0;
  // The last pass found jobs waiting in a queue (see needsPass); until a first pass, assume so.
  private waiting = true;
  // The queues the last pass found no room for (see needsPass).
  private blocked: ReadonlySet<string> = NONE_BLOCKED;
  // Commits that woke no pass (needsPass said no, with `waiting` as it was then), but for those
  // whose submits only joined blocked queues: those queues, since the pass under way began.
  private passedOver = 0;
  private readonly joinedBlocked = new Set<string>();
  private wake: () => void = () => undefined;
  private housekeepingDue: number | null = null;
  private readonly housekeeping: DispatchHousekeeping;

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    private readonly commands: SchedulerCommandsService,
    @Inject(SPINDLE_CONFIG) config: SpindleConfig,
  ) {
    super(dataSource, {
      lockClass: ADVISORY_LOCK_CLASS.dispatcher,
      duty: 'dispatching jobs',
      what: 'dispatch',
      tickMs: TICK_MS,
      logger: new Logger('dispatcher'),
      wakeOn: (wake) => {
        let timekeeping: NodeJS.Timeout | undefined;
        this.wake = wake;
        commands.onCommitted((appended) => {
          if (!appended || needsPass(appended, this.waiting, this.blocked)) {
            wake();
            return;
          }
          if (needsPass(appended, this.waiting)) {
            for (const e of appended) if (e.type === 'JobSubmitted') this.joinedBlocked.add(e.data.context);
          } else this.passedOver++;
          // A start can still bring a due time nearer (its perform backstop): timekeeping looks
          // within its own pause, unless a pass looks before then anyway.
          const committedAt = Date.now();
          timekeeping ??= setTimeout(() => {
            timekeeping = undefined;
            if (this.housekeptAt < committedAt) wake();
          }, HOUSEKEEPING_MS);
        });
        const listening = onHostsChanged(dataSource, `${s}.hosts`, wake);
        return () => {
          clearTimeout(timekeeping);
          void listening.then((stop) => stop());
        };
      },
    });
    this.housekeeping = new DispatchHousekeeping(dataSource, commands, config);
  }

  // Answers when the timekeeping is due next (see DispatchHousekeeping.run).
  protected async lead(): Promise<number | null> {
    // Placing is what a wake is for, so it goes first: a submit's assignment does not wait for the
    // timekeeping's six queries. Timekeeping needs no more than the tick's resolution; what it
    // frees (a silent host's jobs put back in their queues) commits, and that commit wakes the
    // next pass, which places them.
    // A failing placement does not hold timekeeping up (timeouts still fire), nor the reverse.
    try {
      await this.placing(() => this.dispatchQueued());
    } finally {
      if (Date.now() - this.housekeptAt >= HOUSEKEEPING_MS) {
        this.housekeptAt = Date.now();
        this.housekeepingDue = await this.housekeeping.run(this.leadingSince, (fn) => this.placing(fn));
        await this.precreateWorkers();
      } else {
        // The commit that woke this pass may have made something due (a start deadline): look
        // once the pause is over.
        this.housekeepingDue = this.housekeptAt + HOUSEKEEPING_MS;
      }
    }
    return this.housekeepingDue;
  }

  // A submit places its own jobs where it can (submit-placement.ts). Each side decides on what it
  // read before it commits, so whatever places a job or takes a worker out of a pool holds the
  // placement lock, which such a submit takes for its transaction: the placing part of a pass,
  // and the timekeeping when it stops workers.
  private placing<T>(fn: () => Promise<T>): Promise<T> {
    return this.holding(ADVISORY_LOCK_CLASS.placement, fn);
  }

  private metadata(): MessageMetadata {
    return { correlationId: `dispatcher-${newEventId()}`, causationId: null };
  }

  private async liveHosts(): Promise<HostSlots[]> {
    const rows: { id: string; incarnation: string; free: number }[] = await this.dataSource.query(
      `select h.id, h.incarnation, ${FREE_SLOTS_SQL} as free
       from ${s}.hosts h
       where not h.stopping and ${HOST_HEARD_SQL}
       order by free desc, h.id`,
    );
    return rows.map((r) => ({ id: r.id, incarnation: r.incarnation, free: Number(r.free) }));
  }

  // What a pass decides on, in one round trip: every context with jobs waiting and the first of
  // them in queue order (a job past its start deadline is left for expiry), the live hosts with
  // their free slots, the shared pools of those contexts (oldest worker first, on hosts that still
  // answer) and how many of each context's jobs are placed. Nothing but the queues when none wait.
  // A queue that can place nothing now (its maxJobs placed, or no free host slot and no room in
  // its pool) reads no jobs: with every slot busy and a backlog, each submit's commit wakes a
  // pass, and reading the first QUEUE_SCAN jobs of every queue each time was most of what the
  // dispatcher (and Postgres) spent. A deleted context's jobs are read to be refused.
  private async snapshot(): Promise<Snapshot> {
    const [row] = await this.dataSource.query<
      {
        queues: Snapshot['queues'];
        hosts: HostSlots[];
        pools: (PoolWorker & { context: string })[];
        placed: Record<string, number>;
      }[]
    >(
      `with recursive
       -- The contexts with queued jobs, one index probe each (a loose index scan of
       -- dispatch_jobs_queue): a backlog of thousands is not read to find its few contexts.
       probes as (
         (select context from ${s}.dispatch_jobs where state = 'queued' order by context limit 1)
         union all
         select (select j.context from ${s}.dispatch_jobs j
                 where j.state = 'queued' and j.context > p.context order by j.context limit 1)
         from probes p where p.context is not null),
       waiting as (select context from probes where context is not null),
       live as (select h.id, h.incarnation, ${FREE_SLOTS_SQL} as free
                from ${s}.hosts h
                where exists (select 1 from waiting) and not h.stopping and ${HOST_HEARD_SQL}),
       pools as (${poolWorkersSql('select context from waiting')}),
       placed as (${placedJobsSql('select context from waiting')}),
       scans as (select q.context,
                        case when c.settings is null or c.deleted then $1
                             when coalesce(n.placed, 0) >= (c.settings->>'maxJobs')::int then 0
                             when not exists (select 1 from live where free > 0)
                              and not exists (select 1 from pools p where p.context = q.context and p.free > 0)
                             then 0
                             else $1 end as scan
                 from waiting q
                 left join ${s}.dispatch_contexts c on c.name = q.context
                 left join placed n on n.context = q.context),
       heads as (select q.context, j.* from scans q
                 cross join lateral (select j.id, j.seq, j.correlation_id, j.submitted_event_id
                                     from ${s}.dispatch_jobs j
                                     where j.context = q.context and j.state = 'queued'
                                       and (j.start_deadline is null or j.start_deadline >= now())
                                     order by j.seq limit q.scan) j)
       select
         (select coalesce(json_agg(json_build_object(
            'context', q.context, 'settings', c.settings, 'deleted', c.deleted,
            'blocked', (select s.scan = 0 from scans s where s.context = q.context),
            'ids', array(select h.id from heads h where h.context = q.context order by h.seq),
            'causes', (select coalesce(json_object_agg(h.id, json_build_object(
                         'correlationId', h.correlation_id, 'causationId', h.submitted_event_id)), '{}')
                       from heads h where h.context = q.context and h.correlation_id is not null))), '[]')
          from waiting q left join ${s}.dispatch_contexts c on c.name = q.context) as queues,
         (select coalesce(json_agg(json_build_object('id', h.id, 'incarnation', h.incarnation, 'free', h.free)
                                   order by h.free desc, h.id), '[]')
          from live h) as hosts,
         (select coalesce(json_agg(json_build_object('id', p.id, 'context', p.context, 'hostId', p.host_id,
                                                     'free', p.free) order by p.requested_at, p.id), '[]')
          from pools p) as pools,
         (select coalesce(json_object_agg(context, placed), '{}') from placed) as placed`,
      [QUEUE_SCAN],
    );
    const pools = new Map<string, PoolWorker[]>();
    for (const { context, ...worker } of row!.pools)
      pools.set(context, [...(pools.get(context) ?? []), worker]);
    return { queues: row!.queues, hosts: row!.hosts, pools, placed: new Map(Object.entries(row!.placed)) };
  }

  // One pass over every queue: one read for all of them, then the workers to request and the jobs
  // to place as one batch of commands, many per transaction.
  private async dispatchQueued(): Promise<void> {
    const passedOverBefore = this.passedOver;
    this.joinedBlocked.clear();
    const { queues, hosts, pools, placed } = await this.snapshot();
    this.waiting = queues.length > 0;
    this.blocked = new Set(queues.filter((q) => q.blocked).map((q) => q.context));
    // A commit passed over while the snapshot was read was judged with no job waiting, but one
    // was (a job's end, say, read too late to free its slot), or its jobs joined a queue that was
    // blocked and no longer is (this snapshot may not hold them): look again after this pass.
    if (
      (this.waiting && this.passedOver !== passedOverBefore) ||
      [...this.joinedBlocked].some((context) => !this.blocked.has(context))
    )
      this.wake();
    if (queues.length === 0) return;
    const causes = new Map(queues.flatMap((q) => Object.entries(q.causes)));
    const causedBy = (jobId: string): MessageMetadata => causes.get(jobId) ?? this.metadata();
    const refusals = queues
      .filter((q) => !q.settings || q.deleted)
      .flatMap((q) =>
        q.ids.map((id) =>
          commandFor(
            jobCommands,
            { kind: 'refuse', id, reason: `context ${q.context} was deleted` },
            causedBy(id),
          ),
        ),
      );
    await this.commands.runMany(refusals);
    const plans = queues.flatMap((q) => {
      if (!q.settings || q.deleted || q.ids.length === 0) return [];
      return q.settings.workerMode === 'exclusive'
        ? [planExclusive(q.context, q.settings, q.ids, placed.get(q.context) ?? 0, hosts, newEventId)]
        : [
            planShared(
              q.context,
              q.settings,
              q.ids,
              placed.get(q.context) ?? 0,
              pools.get(q.context) ?? [],
              hosts,
              newEventId,
            ),
          ];
    });
    await this.place(
      plans.flatMap((p) => p.requested),
      plans.flatMap((p) => p.placements),
      causedBy,
    );
  }

  private async place(
    requested: readonly WorkerRequestedV1[],
    placements: readonly Placement[],
    causedBy: (jobId: string) => MessageMetadata,
  ): Promise<void> {
    if (placements.length === 0) return;
    // Workers first: each is in the dispatch state before the jobs assigned to it.
    const results = await this.commands.runMany([
      ...requested.map((worker) =>
        commandFor(workerCommands, { kind: 'request', id: worker.id, worker }, this.metadata()),
      ),
      ...placements.map((p) =>
        commandFor(
          jobCommands,
          { kind: 'assign', id: p.jobId, workerId: p.workerId, hostId: p.hostId },
          causedBy(p.jobId),
        ),
      ),
    ]);
    // A job cancelled or expired meanwhile is refused: a worker started for it alone is not needed.
    const used = new Set(
      placements.filter((_, i) => results[requested.length + i]?.ok).map((p) => p.workerId),
    );
    await this.commands.runMany(
      requested
        .filter((w) => !used.has(w.id))
        .map((w) =>
          commandFor(workerCommands, { kind: 'stop', id: w.id, reason: 'unused' }, this.metadata()),
        ),
    );
  }

  // Shared contexts marked `precreated` keep a worker up even before their first job.
  private async precreateWorkers(): Promise<void> {
    // A precreated context keeps `keepWorkers` shared workers up (Mist's: one; a group's: its scale).
    const wanting: { name: string; settings: ContextSettings; missing: number }[] =
      await this.dataSource.query(
        `select c.name, c.settings, m.missing from ${s}.dispatch_contexts c
       cross join lateral (
         select coalesce((c.settings->>'keepWorkers')::int, 1) - count(*)::int as missing
         from ${s}.dispatch_workers w
         where w.context = c.name and w.mode = 'shared' and w.state in ('starting', 'running')) m
       where not c.deleted and c.settings->>'workerMode' = 'shared'
         and coalesce((c.settings->>'precreated')::boolean, false) and m.missing > 0`,
      );
    if (wanting.length === 0) return;
    const hosts = await this.liveHosts();
    const requested = wanting.flatMap(({ name, settings, missing }) =>
      planKeptWorkers(name, settings, missing, hosts, newEventId),
    );
    await this.commands.runMany(
      requested.map((worker) =>
        commandFor(workerCommands, { kind: 'request', id: worker.id, worker }, this.metadata()),
      ),
    );
  }
}
