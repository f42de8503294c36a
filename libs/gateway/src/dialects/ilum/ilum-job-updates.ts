import { Injectable } from '@nestjs/common';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import type { JobState } from '@spindle/contracts';
import { JobsQuery } from '@spindle/read-models';
import type { FeedEntryView, JobView } from '@spindle/read-models';
import type { FeedRender } from '../../events/sse-stream';
import type { IlumUpdatesFilter } from './ilum-updates';
import { ilumJobInfo } from './ilum-job-format';
import type { IlumJobInfo } from './ilum-job-format';

const NOT_STARTED: readonly JobState[] = ['queued', 'starting'];
const REMEMBERED = 10_000;

// Ilum's `/job/updates`: each change of a job sent to a cluster as the whole jobInfo as of that
// change.
@Injectable()
export class IlumJobUpdates {
  constructor(private readonly jobs: JobsQuery) {}

  renderer(filter: IlumUpdatesFilter): FeedRender {
    // Single jobs belong to no group: a groupIds filter matches none of them.
    if (filter.groupIds !== undefined) return () => null;
    const rowOf = jobRowsOfFeed(this.jobs);
    return async (entry) => {
      if (entry.kind !== 'job') return null;
      if (filter.jobIds !== undefined && !filter.jobIds.includes(entry.subjectId)) return null;
      const row = await rowOf(entry);
      // A deleted job is no more to Ilum's clients: none of its changes are sent.
      if (row === null || row.cluster === null || row.deletedAt !== null || !wanted(row, filter)) return null;
      return { id: entry.seq, event: entry.type, data: jobInfoAt(row, entry) };
    };
  }
}

// The job row behind each feed entry of a stream. A job's labels never change, so a stream
// remembers the rows it read, and reads one again only when the entry tells of times the row read
// lacks.
export function jobRowsOfFeed(jobs: JobsQuery): (entry: FeedEntryView) => Promise<JobView | null> {
  const rows = new Map<string, JobView | null>();
  return async (entry) => {
    let row = rows.get(entry.subjectId);
    if (row === undefined || (row !== null && behind(row, entry))) {
      if (rows.size >= REMEMBERED) rows.clear();
      row = await jobs.findById(entry.subjectId);
      rows.set(entry.subjectId, row);
    }
    return row;
  };
}

// The row was read before this entry's start or end was recorded on it.
function behind(row: JobView, entry: FeedEntryView): boolean {
  const state = entry.state as JobState;
  if (FINISHED_JOB_STATES.includes(state)) return row.finishedAt === null;
  return !NOT_STARTED.includes(state) && row.startedAt === null && entry.type !== 'JobStarted';
}

function wanted(row: JobView, filter: IlumUpdatesFilter): boolean {
  if (filter.clusterNames !== undefined && !filter.clusterNames.includes(row.cluster!)) return false;
  return Object.entries(filter.tags).every(([k, v]) => row.tags?.[k] === v);
}

// The job as this change left it: its state and worker from the entry; times, error and result as
// far as it got. The row is at least as new as the entry (the feed commits with it), so what it
// says of the entry's past is right.
export function jobAt(row: JobView, entry: FeedEntryView): JobView {
  const state = entry.state as JobState;
  const ended = FINISHED_JOB_STATES.includes(state);
  const started = NOT_STARTED.includes(state) ? null : row.startedAt;
  return {
    ...row,
    state,
    workerId: entry.workerId,
    startedAt: started ?? (entry.type === 'JobStarted' ? entry.occurredAt : null),
    finishedAt: ended ? (row.finishedAt ?? entry.occurredAt) : null,
    error: ended ? row.error : null,
    result: ended ? row.result : null,
  };
}

export function jobInfoAt(row: JobView, entry: FeedEntryView): IlumJobInfo {
  return ilumJobInfo(jobAt(row, entry));
}
