import { Injectable } from '@nestjs/common';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import type { JobState, JobTags } from '@spindle/contracts';
import { JobsQuery } from '@spindle/read-models';
import type { FeedEntryView, JobView } from '@spindle/read-models';
import type { FeedRender } from '../../events/sse-stream';
import { ilumJobInfo } from './ilum-job-format';
import type { IlumJobInfo } from './ilum-job-format';

export interface IlumJobUpdatesFilter {
  readonly jobIds?: readonly string[];
  readonly groupIds?: readonly string[];
  readonly clusterNames?: readonly string[];
  readonly tags: JobTags; // every one must match
}

const NOT_STARTED: readonly JobState[] = ['queued', 'starting'];
const REMEMBERED = 10_000;

// Ilum's `/job/updates`: each change of a job sent to a cluster as the whole jobInfo as of that
// change. A job's labels never change, so each stream remembers the rows it read.
@Injectable()
export class IlumJobUpdates {
  constructor(private readonly jobs: JobsQuery) {}

  renderer(filter: IlumJobUpdatesFilter): FeedRender {
    // Single jobs belong to no group: a groupIds filter matches none of them.
    if (filter.groupIds !== undefined) return () => null;
    const rows = new Map<string, JobView | null>();
    return async (entry) => {
      if (entry.kind !== 'job') return null;
      if (filter.jobIds !== undefined && !filter.jobIds.includes(entry.subjectId)) return null;
      let row = rows.get(entry.subjectId);
      // Read once for its labels, again only when the entry tells of times the row read lacks.
      if (row === undefined || (row !== null && behind(row, entry))) {
        if (rows.size >= REMEMBERED) rows.clear();
        row = await this.jobs.findById(entry.subjectId);
        rows.set(entry.subjectId, row);
      }
      if (row === null || row.cluster === null || !wanted(row, filter)) return null;
      return { id: entry.seq, event: entry.type, data: jobInfoAt(row, entry) };
    };
  }
}

// The row was read before this entry's start or end was recorded on it.
function behind(row: JobView, entry: FeedEntryView): boolean {
  const state = entry.state as JobState;
  if (FINISHED_JOB_STATES.includes(state)) return row.finishedAt === null;
  return !NOT_STARTED.includes(state) && row.startedAt === null && entry.type !== 'JobStarted';
}

function wanted(row: JobView, filter: IlumJobUpdatesFilter): boolean {
  if (filter.clusterNames !== undefined && !filter.clusterNames.includes(row.cluster!)) return false;
  return Object.entries(filter.tags).every(([k, v]) => row.tags?.[k] === v);
}

// The job as this change left it: its state from the entry; times and error as far as it got. The
// row is at least as new as the entry (the feed commits with it), so what it says of the entry's
// past is right.
export function jobInfoAt(row: JobView, entry: FeedEntryView): IlumJobInfo {
  const state = entry.state as JobState;
  const ended = FINISHED_JOB_STATES.includes(state);
  const started = NOT_STARTED.includes(state) ? null : row.startedAt;
  return ilumJobInfo({
    ...row,
    state,
    workerId: entry.workerId,
    startedAt: started ?? (entry.type === 'JobStarted' ? entry.occurredAt : null),
    finishedAt: ended ? (row.finishedAt ?? entry.occurredAt) : null,
    error: ended ? row.error : null,
  });
}
