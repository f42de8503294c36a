import { Injectable } from '@nestjs/common';
import type { AllocationState, LogCatalogueEntry } from '@spindle/contracts';
import { ServiceJobsQuery } from '@spindle/read-models';

// An allocation is one running instance of a task (Nomad's word): an instance of a service job's
// task group, which is a job of the core (its id is the job's).
export interface Allocation {
  readonly id: string;
  readonly jobName: string; // the service job's name (Genvid's job id)
  readonly status: 'pending' | 'running';
  readonly createTime: Date;
}

@Injectable()
export class GenvidAllocations {
  constructor(private readonly serviceJobs: ServiceJobsQuery) {}

  // The live allocations that write a log of the catalogue, as Genvid (Nomad) finds them: the
  // instances of the entry's task group (`group`) of its job (`job`, a service job's name).
  async ofLog(entry: LogCatalogueEntry): Promise<Allocation[]> {
    const service = await this.serviceJobs.findByName(entry.job);
    if (!service) return [];
    return service.job.allocations
      .filter((a) => a.taskGroup === entry.group)
      .map((a) => ({
        id: a.id,
        jobName: service.name,
        status: clientStatusOfInstance(a.state),
        createTime: new Date(a.placedAt),
      }));
  }
}

// Nomad's client statuses, from a live instance's state.
function clientStatusOfInstance(state: AllocationState): Allocation['status'] {
  switch (state) {
    case 'queued':
    case 'starting':
      return 'pending';
    case 'running':
      return 'running';
    default: {
      const unknownState: never = state;
      throw new Error(`unexpected allocation state ${String(unknownState)}`);
    }
  }
}
