import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { hostLostReason, newEventId } from '@spindle/contracts';
import type { MessageMetadata } from '@spindle/contracts';
import { commandFor } from '@spindle/backbone';
import type { BoundCommand } from '@spindle/backbone';
import type { SpindleConfig } from '@spindle/platform';
import { jobCommands } from '../jobs/domain/job.decider';
import type { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';
import { retryPoliciesOf } from './job-records';
import { HOST_HEARD_SQL } from './host-slots';

const s = `"${SCHEDULER_SCHEMA}"`;
// A task's own process enforces performTimeout; this is the backstop when no report comes.
const PERFORM_BACKSTOP_GRACE_MS = 10_000;
// An exclusive worker stops after its one job; one that is still idle after this was forgotten.
const EXCLUSIVE_IDLE_LIMIT_MS = 30_000;

interface Due {
  readonly lost: { workerId: string; hostId: string }[]; // workers of hosts gone or silent
  readonly startExpired: string[]; // queued jobs past their start deadline
  readonly performExpired: string[]; // running jobs past performTimeout and the grace
  readonly idle: string[]; // workers to stop
  // How long (ms) until the next of those falls due, as far as known now, by the database's clock
  // (the scheduler's may differ: a delay does not mix the two).
  readonly next_in: number | null;
}

// A pass woken for a due time looks this much after it: Postgres's now() has then passed it too.
const DUE_MARGIN_MS = 5;

// The dispatcher's timekeeping: hosts gone silent, start and perform timeouts, idle workers, as
// one batch of commands (see SchedulerCommandsService.runMany).
export class DispatchHousekeeping {
  private readonly logger = new Logger('dispatcher');

  constructor(
    private readonly dataSource: DataSource,
    private readonly commands: SchedulerCommandsService,
    private readonly config: SpindleConfig,
  ) {}

  // What is due, read in one statement (one round trip: it was four statements on four
  // connections), then every decision it calls for in one batch (a job both lost and past its
  // deadline is decided twice on its stream, the second time on what the first did). Answers when
  // (epoch ms) the next of them falls due, as the state is now (null: nothing will without a
  // commit), so the dispatcher sleeps until then instead of looking on a timer.
  // Stopping workers (of a silent host, or idle) must not race a submit placing a job on one of
  // them (submit-placement.ts): when any is due, it is read again and decided holding the
  // placement lock (`placing`), so the submit places on what is left. Nothing else here needs it.
  async run(leadingSince: number, placing: <T>(fn: () => Promise<T>) => Promise<T>): Promise<number | null> {
    const limitMs = this.config.scheduler.hostSilenceLimitMs;
    // A freshly elected leader may be reading heartbeats that queued while nobody listened.
    const trustSilence = Date.now() - leadingSince >= limitMs;
    const first = await this.readDue(trustSilence);
    const { due, readAt } =
      first.due.lost.length > 0 || first.due.idle.length > 0
        ? await placing(async () => {
            const again = await this.readDue(trustSilence);
            await this.decide(again.due);
            return again;
          })
        : await this.decide(first.due).then(() => first);
    // Until it trusts silence, a new leader looks again once it does.
    const dueAt = due.next_in === null ? null : readAt + due.next_in;
    const next = trustSilence ? dueAt : Math.min(dueAt ?? Infinity, leadingSince + limitMs);
    return next === null ? null : next + DUE_MARGIN_MS;
  }

  // What is due, and when (by this process's clock) it was read.
  private async readDue(trustSilence: boolean): Promise<{ due: Due; readAt: number }> {
    const [due] = await this.dataSource.query<Due[]>(
      `select
         (select coalesce(json_agg(json_build_object('workerId', w.id, 'hostId', w.host_id)), '[]')
          from ${s}.dispatch_workers w left join ${s}.hosts h on h.id = w.host_id
          where $2::boolean and (h.id is null or h.incarnation <> w.incarnation
             or not ${HOST_HEARD_SQL})) as lost,
         (select coalesce(json_agg(id), '[]') from ${s}.dispatch_jobs
          where state = 'queued' and start_deadline < now()) as "startExpired",
         (select coalesce(json_agg(id), '[]') from ${s}.dispatch_jobs
          where state = 'running' and perform_timeout_ms is not null
            and started_at + make_interval(secs => (perform_timeout_ms + $1)::double precision / 1000) < now())
           as "performExpired",
         (select coalesce(json_agg(w.id), '[]')
          from ${s}.dispatch_workers w join ${s}.dispatch_contexts c on c.name = w.context
          -- A precreated context keeps its oldest keepWorkers shared workers (1 unless set: a group
          -- keeps its scale); the others of its pool go like any.
          where w.state = 'running' and w.idle_since is not null
            and ((w.mode = 'shared'
                  and not (coalesce((c.settings->>'precreated')::boolean, false) and w.id in (
                    select k.id from ${s}.dispatch_workers k
                    where k.context = w.context and k.mode = 'shared' and k.state in ('starting', 'running')
                    order by k.requested_at, k.id limit coalesce((c.settings->>'keepWorkers')::int, 1)))
                  and c.settings->>'downtimeMs' is not null
                  and w.idle_since + make_interval(secs => (c.settings->>'downtimeMs')::double precision / 1000) < now())
              or (w.mode = 'exclusive' and w.idle_since + make_interval(secs => $3::double precision / 1000) < now())
              or c.deleted)) as idle,
         -- When the first of the same falls due that is not yet: a host's heard_until (of a
         -- host with workers), a start deadline, a perform backstop, an idle worker's downtime
         -- (or the exclusive limit). A kept worker of a precreated pool may count: one pass more.
         (select (extract(epoch from min(at) - now()) * 1000)::float8 from (
            select h.heard_until as at
            from ${s}.dispatch_workers w join ${s}.hosts h on h.id = w.host_id and h.incarnation = w.incarnation
            union all
            select start_deadline from ${s}.dispatch_jobs where state = 'queued'
            union all
            select started_at + make_interval(secs => (perform_timeout_ms + $1)::double precision / 1000)
            from ${s}.dispatch_jobs where state = 'running' and perform_timeout_ms is not null
            union all
            select w.idle_since + make_interval(secs => (case when w.mode = 'exclusive' then $3::double precision
                     else (c.settings->>'downtimeMs')::double precision end) / 1000)
            from ${s}.dispatch_workers w join ${s}.dispatch_contexts c on c.name = w.context
            where w.state = 'running' and w.idle_since is not null
              and (w.mode = 'exclusive' or c.settings->>'downtimeMs' is not null)) due
          where at >= now()) as next_in`,
      [PERFORM_BACKSTOP_GRACE_MS, trustSilence, EXCLUSIVE_IDLE_LIMIT_MS],
    );
    return { due: due!, readAt: Date.now() };
  }

  private async decide(due: Due): Promise<void> {
    const decisions = [
      ...(await this.loseSilentHosts(due.lost)),
      ...due.startExpired.map((id) => commandFor(jobCommands, { kind: 'expire-start', id }, this.metadata())),
      ...due.performExpired.map((id) =>
        commandFor(jobCommands, { kind: 'expire-perform', id }, this.metadata()),
      ),
      ...due.idle.map((id) =>
        commandFor(workerCommands, { kind: 'stop', id, reason: 'idle' }, this.metadata()),
      ),
    ];
    await this.commands.runMany(decisions);
  }

  private metadata(): MessageMetadata {
    return { correlationId: `dispatcher-${newEventId()}`, causationId: null };
  }

  // A host that stopped heartbeating (or came back as a new incarnation) took its processes with
  // it: what ran there goes back in its queue where its function allows a retry, else fails; its
  // workers are forgotten. Jobs never stay running forever.
  private async loseSilentHosts(lostWorkers: Due['lost']): Promise<BoundCommand[]> {
    const lost = lostWorkers.map((l) => ({ worker_id: l.workerId, host_id: l.hostId }));
    if (lost.length === 0) return [];
    const jobs: { id: string; worker_id: string }[] = await this.dataSource.query(
      `select id, worker_id from ${s}.dispatch_jobs where worker_id = any($1::text[])`,
      [lost.map((l) => l.worker_id)],
    );
    // Its function's retry policy decides whether a job goes back in its queue or fails.
    const retries = await retryPoliciesOf(
      this.dataSource,
      jobs.map((j) => j.id),
    );
    const reasonOf = new Map(lost.map((l) => [l.worker_id, hostLostReason(l.host_id)]));
    for (const { worker_id: workerId } of lost) {
      const count = jobs.filter((j) => j.worker_id === workerId).length;
      this.logger.warn(`${reasonOf.get(workerId)}: worker ${workerId} lost with ${count} job(s)`);
    }
    return [
      ...jobs.map((job) =>
        commandFor(
          jobCommands,
          {
            kind: 'lose',
            id: job.id,
            workerId: job.worker_id,
            reason: reasonOf.get(job.worker_id)!,
            retries: retries.get(job.id) ?? 0,
          },
          this.metadata(),
        ),
      ),
      ...lost.map(({ worker_id: id }) =>
        commandFor(workerCommands, { kind: 'stopped', id, reason: reasonOf.get(id)! }, this.metadata()),
      ),
    ];
  }
}
