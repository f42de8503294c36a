import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { isMapReduceJobEvent, newEventId } from '@spindle/contracts';
import type { MapReduceJobSubmittedV1, MessageMetadata } from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS, LeaderDuty, commandFor } from '@spindle/backbone';
import type { BoundCommand } from '@spindle/backbone';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { mapReduceJobCommands } from '../domain/mapreduce-job.decider';

const s = `"${SCHEDULER_SCHEMA}"`;
// Hosts go silent without a commit to wake the supervisor: look at least this often.
const TICK_MS = 500;

interface JobRow {
  readonly id: string;
  readonly state: 'running' | 'stopping';
  readonly run: number;
  readonly host_id: string | null;
  readonly definition: MapReduceJobSubmittedV1;
  readonly host_present: boolean; // the run's host, the same agent run, not stopping
  readonly host_heard: boolean; // and heard from within HOST_SILENCE_LIMIT_MS
}

// Places each MapReduce job's coordinator (the engine, which runs the job's map and reduce tasks
// as processes of its host, `WORKER_SLOTS` at once) on a worker host, and places it again
// elsewhere when that host goes silent, stops or restarts: the next run starts every task over.
// A job asked to stop while on no live host ends stopped here. One scheduler leads (a session
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
      // Only what changes MapReduce jobs (a submit, a stop, a report) calls for a pass at once; a
      // host's coming and going is seen at the next tick. A pass on every commit was two queries
      // per submit transaction for nothing.
      wakeOn: (wake) =>
        commands.onCommitted((appended) => {
          if (!appended || appended.some(isMapReduceJobEvent)) wake();
        }),
    });
  }

  protected async lead(): Promise<void> {
    const silence = this.config.scheduler.hostSilenceLimitMs;
    // A freshly elected leader may be reading heartbeats that queued while nobody listened: a host
    // is taken for lost by its silence only once this scheduler has led that long (as the
    // dispatcher's housekeeping does); a host that stopped or restarted is lost at once.
    const trustSilence = Date.now() - this.leadingSince >= silence;
    const jobs: JobRow[] = await this.dataSource.query(
      `select m.id, m.state, m.run, m.host_id, m.definition,
              coalesce(h.incarnation = m.incarnation and not h.stopping, false) as host_present,
              coalesce(h.last_seen >= now() - make_interval(secs => $1::double precision / 1000), false)
                as host_heard
       from ${s}.mapreduce_jobs m left join ${s}.hosts h on h.id = m.host_id`,
      [silence],
    );
    const orphans = jobs.filter((j) => !j.host_present || (trustSilence && !j.host_heard));
    if (orphans.length === 0) return;
    // The live hosts, the one with the fewest MapReduce jobs and then the most free slots first.
    const hosts: { id: string; incarnation: string }[] = await this.dataSource.query(
      `select h.id, h.incarnation from ${s}.hosts h
       where not h.stopping and h.last_seen >= now() - make_interval(secs => $1::double precision / 1000)
       order by (select count(*) from ${s}.mapreduce_jobs m where m.host_id = h.id) asc,
                h.slots - (select count(*) from ${s}.dispatch_workers w where w.host_id = h.id) desc, h.id`,
      [silence],
    );
    const metadata = this.metadata();
    const batch: BoundCommand[] = [];
    orphans.forEach((job, i) => {
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
    if (batch.length === 0) return;
    const results = await this.commands.runMany(batch);
    for (const r of results)
      if (!r.ok) this.logger.warn(`a MapReduce placement was refused: ${r.error.message}`);
  }

  private metadata(): MessageMetadata {
    return { correlationId: `mapreduce-${newEventId()}`, causationId: null };
  }
}
