import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  HOST_LOST_REASON,
  allocationsToPlace,
  allocationsToStop,
  isServiceJobEvent,
  jobStreamId,
  newEventId,
  nextRestartAt,
} from '@spindle/contracts';
import type {
  AllocationOutcome,
  AllocationState,
  MessageMetadata,
  ServiceJobStatus,
} from '@spindle/contracts';
import { ADVISORY_LOCK_CLASS, LeaderDuty, commandFor } from '@spindle/backbone';
import type { BoundCommand } from '@spindle/backbone';
import { jobCommands } from '../../jobs/domain/job.decider';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { SCHEDULER_CONNECTION, SCHEDULER_SCHEMA } from '../../scheduler.tokens';
import { serviceJobCommands } from '../domain/service-job.decider';

const s = `"${SCHEDULER_SCHEMA}"`;
// The safety net. A pass runs at every commit that changes a service job or the job of one of its
// instances (a silent host's jobs are lost by the dispatcher's commit), in any scheduler, and
// when the next back-off ends (the pass's answer); else this often (and a standby tries the lead).
const TICK_MS = 5_000;

// What became of an instance's job: live in a state, ended with its last event, or not yet submitted.
interface JobFacts {
  readonly id: string;
  readonly recorded: boolean;
  readonly live: string | null; // dispatch_jobs state while the job is live
  readonly end_type: string | null;
  readonly error: string | null;
}

const LIVE_STATES: Readonly<Record<string, AllocationState>> = {
  queued: 'queued',
  starting: 'starting',
  running: 'running',
};

// Runs service jobs' instances (allocations) as jobs, through the dispatcher and the worker agents
// like every job, and keeps their counts: places the instances a group misses (after the back-off
// when instances keep ending), submits a job for each, records how each job goes (starting,
// running) and how it ended, and cancels the instances beyond a group's count. Every step is a
// command on the service job's or the job's stream, so a pass decided on an older state is refused
// or changes nothing; one scheduler leads (a session advisory lock). A pass runs on every commit of
// the scheduler, when a back-off ends, and every TICK_MS.
@Injectable()
export class ServiceJobSupervisor extends LeaderDuty {
  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    private readonly commands: SchedulerCommandsService,
  ) {
    super(dataSource, {
      lockClass: ADVISORY_LOCK_CLASS.serviceJobSupervisor,
      duty: 'supervising service jobs',
      what: 'service job',
      tickMs: TICK_MS,
      logger: new Logger('service-jobs'),
      // A pass at once for a change of a service job, or of the job of one of its instances
      // (`watched`, as the last pass saw them); anything else waits for the tick.
      wakeOn: (wake) =>
        commands.onCommitted((appended) => {
          if (!appended || appended.some((e) => isServiceJobEvent(e) || this.watched.has(e.streamId))) wake();
        }),
    });
  }

  // The stream ids of the jobs of every instance the last pass saw.
  private watched = new Set<string>();

  // One look at every service job; answers when the next back-off ends, if one is waiting.
  protected async lead(): Promise<number | null> {
    const jobs = (
      await this.dataSource.query<{ status: ServiceJobStatus }[]>(`select status from ${s}.service_jobs`)
    ).map((r) => r.status);
    this.watched = new Set(jobs.flatMap((j) => j.allocations.map((a) => jobStreamId(a.id))));
    if (jobs.length === 0) return null;
    const facts = await this.jobFacts(jobs.flatMap((j) => j.allocations.map((a) => a.id)));
    const now = new Date();
    const batch = jobs.flatMap((job) => this.decisions(job, facts, now));
    await this.commands.runMany(batch);
    const waits = jobs.map((job) => nextRestartAt(job, now)).filter((at): at is number => at !== null);
    return waits.length > 0 ? Math.min(...waits) : null;
  }

  private decisions(job: ServiceJobStatus, facts: ReadonlyMap<string, JobFacts>, now: Date): BoundCommand[] {
    const metadata = this.metadata();
    const { name } = job;
    const batch: BoundCommand[] = [];
    const surplus = new Set(allocationsToStop(job).map((a) => a.id));
    for (const alloc of job.allocations) {
      const fact = facts.get(alloc.id);
      const group = job.taskGroups.find((g) => g.name === alloc.taskGroup);
      if (fact?.end_type) {
        batch.push(
          commandFor(
            serviceJobCommands,
            {
              kind: 'end',
              name,
              allocId: alloc.id,
              ...outcomeOf(fact),
              stopped: fact.end_type === 'JobCancelled',
            },
            metadata,
          ),
        );
      } else if (surplus.has(alloc.id) || !group) {
        // Not submitted yet: it never ran, and ends here; else its job is cancelled and ends by itself.
        batch.push(
          fact?.recorded
            ? commandFor(jobCommands, { kind: 'cancel', id: alloc.id }, metadata)
            : commandFor(
                serviceJobCommands,
                {
                  kind: 'end',
                  name,
                  allocId: alloc.id,
                  outcome: 'complete',
                  reason: 'stopped before it ran',
                  stopped: true,
                },
                metadata,
              ),
        );
      } else if (!fact?.recorded) {
        batch.push(
          commandFor(
            jobCommands,
            {
              kind: 'submit',
              id: alloc.id,
              job: {
                id: alloc.id,
                function: group.function,
                context: group.context,
                args: group.args,
                program: group.program,
                externalId: null,
                startTimeoutMs: null,
                performTimeoutMs: null,
                ...(group.secrets?.length ? { secrets: group.secrets } : {}),
              },
            },
            metadata,
          ),
        );
      } else {
        const state = fact.live ? LIVE_STATES[fact.live] : undefined;
        if (state && state !== alloc.state)
          batch.push(
            commandFor(serviceJobCommands, { kind: 'change', name, allocId: alloc.id, state }, metadata),
          );
      }
    }
    const due = allocationsToPlace(job, now);
    if (due.size > 0)
      batch.push(
        commandFor(
          serviceJobCommands,
          {
            kind: 'place',
            name,
            at: now.toISOString(),
            allocations: [...due].flatMap(([taskGroup, n]) =>
              Array.from({ length: n }, () => ({ id: newEventId(), taskGroup })),
            ),
          },
          metadata,
          now,
        ),
      );
    return batch;
  }

  private async jobFacts(ids: readonly string[]): Promise<Map<string, JobFacts>> {
    if (ids.length === 0) return new Map();
    const rows: JobFacts[] = await this.dataSource.query(
      `select a.id, st.stream_id is not null as recorded, d.state as live, e.type as end_type,
              e.data->>'error' as error
       from unnest($1::text[]) as a(id)
       left join ${s}.streams st on st.stream_id = 'job-' || a.id
       left join ${s}.dispatch_jobs d on d.id = a.id
       left join lateral (
         select type, data from ${s}.events
         where stream_id = 'job-' || a.id
           and type in ('JobSucceeded', 'JobFailed', 'JobCancelled', 'JobTimedOut')
         order by stream_position desc limit 1) e on true`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  private metadata(): MessageMetadata {
    return { correlationId: `service-jobs-${newEventId()}`, causationId: null };
  }
}

// Nomad's client states: an instance that exited 0 or was stopped is complete, one whose host
// stopped responding is lost, anything else (a failure, a kill, a timeout) failed.
function outcomeOf(fact: JobFacts): { outcome: AllocationOutcome; reason: string } {
  switch (fact.end_type) {
    case 'JobSucceeded':
      return { outcome: 'complete', reason: 'exited' };
    case 'JobCancelled':
      return { outcome: 'complete', reason: 'stopped' };
    case 'JobTimedOut':
      return { outcome: 'failed', reason: 'timed out' };
    case 'JobFailed':
    case null:
    default: {
      const error = fact.error ?? 'failed';
      return { outcome: HOST_LOST_REASON.test(error) ? 'lost' : 'failed', reason: error };
    }
  }
}
