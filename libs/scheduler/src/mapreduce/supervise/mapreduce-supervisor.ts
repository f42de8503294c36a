import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MAPREDUCE_TASK_MAX_ATTEMPTS, isMapReduceJobEvent, newEventId } from '@spindle/contracts';
import type { MapReduceJobSubmittedV1, MessageMetadata } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS, LeaderDuty, commandFor, onHostsChanged } from '@spindle/backbone';
import type { BoundCommand } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { FREE_SLOTS_SQL, HOST_HEARD_SQL } from '../../dispatch/host-slots';
import { mapReduceJobCommands } from '../domain/mapreduce-job.decider';

const s = `"${SCHEDULER_SCHEMA}"`;
// With MapReduce jobs under way, hosts go silent without a commit to wake the supervisor: look at
// least this often.
const BUSY_TICK_MS = 500;
// With none, only a commit that changes one (in any scheduler) calls for a pass: this is the
// safety net (and how often a standby tries the lead).
const TICK_MS = 5_000;

interface JobRow {
  readonly id: string;
  readonly state: 'running' | 'stopping';
  readonly run: number;
  readonly host_id: string | null;
  readonly definition: MapReduceJobSubmittedV1;
  readonly host_present: boolean; // the run's host, the same agent run, not stopping
  readonly host_heard: boolean; // and heard within the silence it is allowed (HOST_HEARD_SQL)
}

interface TaskRow {
  readonly job_id: string;
  readonly task_id: string;
  readonly kind: 'mapper' | 'reducer';
  readonly run: number;
  readonly attempt: number;
  readonly host_id: string | null;
  readonly avoid_host_id: string | null;
  readonly host_present: boolean;
  readonly host_heard: boolean;
}

interface LiveHost {
  readonly id: string;
  readonly incarnation: string;
  free: number; // slots less its workers and the MapReduce attempts placed on it
}

// Places each MapReduce job's coordinator (the engine's MapReduceRun, which plans the job and asks
// for its task attempts) on a worker host, and places it again elsewhere when that host goes
// silent, stops or restarts: the next run starts every task over. A job asked to stop while on no
// live host ends stopped here. Places each attempt a coordinator asks for (MapReduceTaskReady) on
// the live host with the most free slots, another than the one its last attempt failed on when it
// can, so one job uses the slots of every host; an attempt whose host is lost fails (and is
// retried by its coordinator, as any failed attempt). One scheduler leads (a session
// advisory lock), so two never place the same job; should they still (a leader taken for gone
// while its pass ran), every step is a command on the job's stream and the later run wins: the
// decider ignores reports of an older run, and a host stops a run it sees placed elsewhere.
@Injectable()
export class MapReduceSupervisor extends LeaderDuty {
  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    private readonly commands: SchedulerCommandsService,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {
    super(dataSource, {
      lockClass: ADVISORY_LOCK_CLASS.mapReduceSupervisor,
      duty: 'placing MapReduce jobs',
      what: 'MapReduce',
      tickMs: TICK_MS,
      logger: new Logger('mapreduce'),
      // Only what changes MapReduce jobs (a submit, a stop, a report) calls for a pass at once, and
      // a host's room changing; a host going silent is seen at the next busy tick. A pass on every
      // commit was two queries per submit transaction for nothing.
      wakeOn: (wake) => {
        commands.onCommitted((appended) => {
          if (!appended || appended.some(isMapReduceJobEvent)) wake();
        });
        const listening = onHostsChanged(dataSource, `${s}.hosts`, wake);
        return () => void listening.then((stop) => stop());
      },
    });
  }

  // Answers when to look again while jobs are under way (null: none is).
  protected async lead(): Promise<number | null> {
    const [any] = await this.dataSource.query<{ found: boolean }[]>(
      `select exists (select 1 from ${s}.mapreduce_jobs) as found`,
    );
    if (!any?.found) return null;
    await this.placeAll();
    return Date.now() + BUSY_TICK_MS;
  }

  private async placeAll(): Promise<void> {
    // A freshly elected leader may be reading heartbeats that queued while nobody listened: a host
    // is taken for lost by its silence only once this scheduler has led that long (as the
    // dispatcher's housekeeping does); a host that stopped or restarted is lost at once.
    const trustSilence = Date.now() - this.leadingSince >= this.config.scheduler.hostSilenceLimitMs;
    const lost = (row: { host_present: boolean; host_heard: boolean }): boolean =>
      !row.host_present || (trustSilence && !row.host_heard);
    // The live hosts, the one with the fewest MapReduce jobs and then the most free slots first.
    const hosts: (LiveHost & { jobs: number })[] = await this.dataSource.query(
      `select h.id, h.incarnation,
              (select count(*) from ${s}.mapreduce_jobs m where m.host_id = h.id)::int as jobs,
              ${FREE_SLOTS_SQL} as free
       from ${s}.hosts h
       where not h.stopping and ${HOST_HEARD_SQL}
       order by jobs asc, free desc, h.id`,
    );
    const batch = [...(await this.placeJobs(hosts, lost)), ...(await this.placeTasks(hosts, lost))];
    if (batch.length === 0) return;
    const results = await this.commands.runMany(batch);
    for (const r of results)
      if (!r.ok) this.logger.warn(`a MapReduce placement was refused: ${r.error.message}`);
  }

  private async placeJobs(
    hosts: readonly LiveHost[],
    lost: (row: JobRow) => boolean,
  ): Promise<BoundCommand[]> {
    const jobs: JobRow[] = await this.dataSource.query(
      `select m.id, m.state, m.run, m.host_id, m.definition,
              coalesce(h.incarnation = m.incarnation and not h.stopping, false) as host_present,
              coalesce(${HOST_HEARD_SQL}, false) as host_heard
       from ${s}.mapreduce_jobs m left join ${s}.hosts h on h.id = m.host_id`,
    );
    const metadata = this.metadata();
    const batch: BoundCommand[] = [];
    jobs.filter(lost).forEach((job, i) => {
      if (job.state === 'stopping') {
        batch.push(
          commandFor(
            mapReduceJobCommands,
            { kind: 'finish', id: job.id, outcome: { state: 'stopped', reason: 'stopped by request' } },
            metadata,
          ),
        );
        return;
      }
      const host = hosts[i % Math.max(hosts.length, 1)];
      if (!host) return; // no live host: the job waits for one
      batch.push(
        commandFor(
          mapReduceJobCommands,
          {
            kind: 'assign',
            id: job.id,
            hostId: host.id,
            incarnation: host.incarnation,
            reason:
              job.host_id === null
                ? 'submitted'
                : `host ${job.host_id} stopped responding during run ${job.run}`,
            job: job.definition,
          },
          metadata,
        ),
      );
    });
    return batch;
  }

  // The attempts of running jobs' current runs: those on a lost host fail, those waiting go to the
  // host with the most free slots (one slot each; none free: they wait for the next pass).
  private async placeTasks(hosts: LiveHost[], lost: (row: TaskRow) => boolean): Promise<BoundCommand[]> {
    const tasks: TaskRow[] = await this.dataSource.query(
      `select t.job_id, t.task_id, t.kind, t.run, t.attempt, t.host_id, t.avoid_host_id,
              coalesce(h.incarnation = t.incarnation and not h.stopping, false) as host_present,
              coalesce(${HOST_HEARD_SQL}, false) as host_heard
       from ${s}.mapreduce_tasks t
       join ${s}.mapreduce_jobs m on m.id = t.job_id and m.run = t.run
       left join ${s}.hosts h on h.id = t.host_id
       where t.open and (t.host_id is not null or m.state = 'running')
       order by t.job_id, t.kind desc, t.task_id`,
    );
    const metadata = this.metadata();
    const batch: BoundCommand[] = [];
    for (const task of tasks) {
      const base = { id: task.job_id, run: task.run, taskId: task.task_id, attempt: task.attempt };
      if (task.host_id !== null) {
        if (!lost(task)) continue;
        batch.push(
          commandFor(
            mapReduceJobCommands,
            {
              kind: 'task-failed',
              ...base,
              error: `its worker host ${task.host_id} stopped responding`,
              retried: task.attempt < MAPREDUCE_TASK_MAX_ATTEMPTS,
            },
            metadata,
          ),
        );
        continue;
      }
      const host = [...hosts]
        .filter((h) => h.free > 0)
        .sort(
          (a, b) =>
            Number(a.id === task.avoid_host_id) - Number(b.id === task.avoid_host_id) || b.free - a.free,
        )[0];
      if (!host) continue; // every slot taken: it waits
      host.free -= 1;
      batch.push(
        commandFor(
          mapReduceJobCommands,
          {
            kind: 'assign-task',
            ...base,
            taskKind: task.kind,
            hostId: host.id,
            incarnation: host.incarnation,
          },
          metadata,
        ),
      );
    }
    return batch;
  }

  private metadata(): MessageMetadata {
    return { correlationId: `mapreduce-${newEventId()}`, causationId: null };
  }
}
