import { Injectable } from '@nestjs/common';
import type { JobState, LogCatalogueEntry } from '@spindle/contracts';
import { JobsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';

// An allocation is one running instance of a task (Nomad's word). Until service jobs with task
// groups exist, an allocation is a job of the core: its id is the job's, its job name the
// function's. Every lookup goes through this class, so service jobs extend it in one place.
export interface Allocation {
  readonly id: string;
  readonly jobName: string;
  readonly status: 'pending' | 'running' | 'complete' | 'failed';
  readonly createTime: Date;
}

const LIVE_STATES: readonly JobState[] = ['queued', 'starting', 'running', 'cancelling'];
const MAX_ALLOCATIONS = 500;

@Injectable()
export class GenvidAllocations {
  constructor(private readonly jobs: JobsQuery) {}

  async find(id: string): Promise<Allocation | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null; // job ids are UUIDs
    const job = await this.jobs.findRecent(id);
    return job ? allocationOf(job) : null;
  }

  // The live allocations that write a log of the catalogue: the instances of its job.
  async ofLog(entry: LogCatalogueEntry): Promise<Allocation[]> {
    const page = await this.jobs.list({ function: entry.job, states: LIVE_STATES }, MAX_ALLOCATIONS, null);
    return page.items.map(allocationOf);
  }
}

// Nomad's client statuses, from the job's state.
function allocationOf(job: JobView): Allocation {
  const status = (): Allocation['status'] => {
    switch (job.state) {
      case 'queued':
      case 'starting':
        return 'pending';
      case 'running':
      case 'cancelling':
        return 'running';
      case 'succeeded':
        return 'complete';
      case 'failed':
      case 'cancelled':
      case 'timed_out':
        return 'failed';
      default: {
        const unknownState: never = job.state;
        throw new Error(`unexpected job state ${String(unknownState)}`);
      }
    }
  };
  return { id: job.id, jobName: job.function, status: status(), createTime: job.createdAt };
}
