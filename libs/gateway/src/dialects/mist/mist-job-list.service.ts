import { Injectable } from '@nestjs/common';
import { JobsQuery } from '@spindle/read-models';
import type { JobFilter } from '@spindle/read-models';
import { jobDetails, statesFor } from './mist-format';
import { mistPage } from './mist-query';

// Mist's job lists (all, per function, per worker): offset pages newest first, repeated `status`,
// and `paginate=true` for {jobs, total}.
@Injectable()
export class MistJobList {
  constructor(private readonly jobs: JobsQuery) {}

  async list(filter: JobFilter, query: Record<string, unknown>): Promise<unknown> {
    const page = mistPage(query);
    const narrowed: JobFilter = page.statuses ? { ...filter, states: statesFor(page.statuses) } : filter;
    const rows = await this.jobs.listAt(narrowed, page.limit, page.offset);
    const jobs = rows.map(jobDetails);
    // Mist's own server reports the page size as `total`; here it is the count of every match.
    return page.paginate ? { jobs, total: await this.jobs.count(narrowed) } : jobs;
  }
}
