import { Injectable } from '@nestjs/common';
import { FINISHED_JOB_STATES, GROUP_CONTEXT_PREFIX } from '@spindle/contracts';
import type { JobState } from '@spindle/contracts';
import { ClusterJobsQuery, JobsQuery } from '@spindle/read-models';
import type { ClusterJobRow, FeedEntryView, JobView, WorkerPhase } from '@spindle/read-models';
import type { FeedRender } from '../../events/sse-stream';
import type { IlumUpdatesFilter } from './ilum-updates';
import { ilumJobInfo, interactiveJobInfo } from './ilum-job-format';
import type { IlumJobInfo } from './ilum-job-format';

const NOT_STARTED: readonly JobState[] = ['queued', 'starting'];
const REMEMBERED = 10_000;

// Ilum's `/job/updates`: each change of a job sent to a cluster, and of a group's worker (Ilum's
// interactive job: started, busy with a request, ready again, stopped), as the whole jobInfo as of
// that change.
@Injectable()
export class IlumJobUpdates {
  constructor(
    private readonly jobs: JobsQuery,
    private readonly clusterJobs: ClusterJobsQuery,
  ) {}

  renderer(filter: IlumUpdatesFilter): FeedRender {
    const rowOf = jobRowsOfFeed(this.jobs);
    const workerOf = groupWorkersOfFeed(this.clusterJobs);
    return async (entry) => {
      if (entry.context.startsWith(GROUP_CONTEXT_PREFIX)) {
        const change = interactiveChange(entry);
        if (change === null) return null;
        if (filter.jobIds !== undefined && !filter.jobIds.includes(change.workerId)) return null;
        const row = await workerOf(change);
        if (row === null || !wantedGroup(row, filter)) return null;
        // The worker as this change left it (the row may be newer: a stream resumed later).
        const worker = {
          ...row.worker,
          startedAt: change.phase === 'starting' ? null : row.worker.startedAt,
          stoppedAt: change.phase === 'stopped' ? row.worker.stoppedAt : null,
        };
        return {
          id: entry.seq,
          event: entry.type,
          data: interactiveJobInfo(row.group, worker, change.phase),
        };
      }
      // Single jobs belong to no group: a groupIds filter matches none of them.
      if (entry.kind !== 'job' || filter.groupIds !== undefined) return null;
      if (filter.jobIds !== undefined && !filter.jobIds.includes(entry.subjectId)) return null;
      const row = await rowOf(entry);
      // A deleted job is no more to Ilum's clients: none of its changes are sent.
      if (row === null || row.cluster === null || row.deletedAt !== null || !wanted(row, filter)) return null;
      return { id: entry.seq, event: entry.type, data: jobInfoAt(row, entry) };
    };
  }
}

type GroupWorkerRow = Extract<ClusterJobRow, { kind: 'interactive' }>;
interface InteractiveChange {
  readonly workerId: string;
  readonly phase: WorkerPhase;
}

// What a feed entry of a group's context changes in one of its workers: the worker's own start and
// stop, and each request it starts (busy) and ends (ready again). Other entries change nothing an
// Ilum client sees.
function interactiveChange(entry: FeedEntryView): InteractiveChange | null {
  if (entry.kind === 'worker') {
    if (entry.type === 'WorkerRequested') return { workerId: entry.subjectId, phase: 'starting' };
    if (entry.type === 'WorkerStarted') return { workerId: entry.subjectId, phase: 'idle' };
    if (entry.type === 'WorkerStopped') return { workerId: entry.subjectId, phase: 'stopped' };
    return null;
  }
  if (entry.workerId === null) return null;
  if (entry.type === 'JobStarted') return { workerId: entry.workerId, phase: 'busy' };
  if (FINISHED_JOB_STATES.includes(entry.state as JobState))
    return { workerId: entry.workerId, phase: 'idle' };
  return null;
}

// The group worker (with its group) behind each change of a stream. A worker's group and labels do
// not change while it lives, so a stream remembers the rows it read, and reads one again only when
// the change tells of times the row read lacks. A worker of a deleted group is none.
function groupWorkersOfFeed(
  clusterJobs: ClusterJobsQuery,
): (change: InteractiveChange) => Promise<GroupWorkerRow | null> {
  const rows = new Map<string, GroupWorkerRow | null>();
  return async ({ workerId, phase }) => {
    let row = rows.get(workerId);
    const behind =
      row != null &&
      ((phase !== 'starting' && row.worker.startedAt === null) ||
        (phase === 'stopped' && row.worker.stoppedAt === null));
    if (row === undefined || behind) {
      if (rows.size >= REMEMBERED) rows.clear();
      row = await clusterJobs.worker(workerId);
      rows.set(workerId, row);
    }
    return row;
  };
}

function wantedGroup(
  row: Extract<ClusterJobRow, { kind: 'interactive' }>,
  filter: IlumUpdatesFilter,
): boolean {
  if (filter.groupIds !== undefined && !filter.groupIds.includes(row.group.id)) return false;
  if (filter.clusterNames !== undefined && !filter.clusterNames.includes(row.group.clusterName)) return false;
  return Object.entries(filter.tags).every(([k, v]) => row.group.tags?.[k] === v);
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
