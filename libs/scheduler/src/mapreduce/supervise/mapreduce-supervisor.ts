import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { newEventId } from '@spindle/contracts';
import type { MapReduceJobSubmittedV1, MessageMetadata } from '@spindle/contracts';
import { LeadingLoop, commandFor } from '@spindle/backbone';
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
  readonly host_live: boolean;
}

// Places each MapReduce job's coordinator (the engine, which runs the job's map and reduce tasks
// as processes of its host, `WORKER_SLOTS` at once) on a worker host, and places it again
// elsewhere when that host goes silent, stops or restarts: the next run starts every task over.
// A job asked to stop while on no live host ends stopped here. Every step is a command on the
// job's stream: two schedulers placing the same job at once make two runs, the later one wins (the
// decider ignores reports of an older run, and a host stops a run it sees placed elsewhere), so
// this loop needs no leader lock of its own.
@Injectable()
export class MapReduceSupervisor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('mapreduce');
  private readonly loop = new LeadingLoop(() => this.pass(), TICK_MS, this.logger, 'MapReduce');

  constructor(
    @InjectDataSource(SCHEDULER_CONNECTION) private readonly dataSource: DataSource,
    private readonly commands: SchedulerCommandsService,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.commands.onCommitted(() => this.loop.wake());
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private async pass(): Promise<void> {
    const silence = this.config.scheduler.hostSilenceLimitMs;
    const jobs: JobRow[] = await this.dataSource.query(
      `select m.id, m.state, m.run, m.host_id, m.definition,
              coalesce(h.incarnation = m.incarnation and not h.stopping
                       and h.last_seen >= now() - make_interval(secs => $1::double precision / 1000),
                       false) as host_live
       from ${s}.mapreduce_jobs m left join ${s}.hosts h on h.id = m.host_id`,
      [silence],
    );
    const orphans = jobs.filter((j) => !j.host_live);
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
