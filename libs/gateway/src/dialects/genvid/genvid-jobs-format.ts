import type { ServiceJobStatusName, TaskGroupSummary } from '@spindle/contracts';
import type { ServiceJobView } from '@spindle/read-models';
import { parseDuration } from '@spindle/platform';
import { ServiceJobDto } from '../../service-jobs/service-job.dto';
import { genvidBadRequest } from './genvid-errors.filter';

export interface GenvidTaskGroup {
  readonly name: string;
  readonly count: number;
  readonly countInit: number;
  readonly countMax: number;
  readonly summary: TaskGroupSummary;
}

export interface GenvidJob {
  readonly name: string; // the Genvid job id
  readonly status: ServiceJobStatusName;
  readonly taskGroups: readonly GenvidTaskGroup[];
}

// A service job as GET /v1/jobs shows it (the seed's example, Nomad's job summary per group): the
// native answer without what Genvid does not show (functions, instances, times).
export function genvidJob(row: ServiceJobView): GenvidJob {
  const { name, status, taskGroups } = ServiceJobDto.from(row);
  return {
    name,
    status,
    taskGroups: taskGroups.map(({ name: group, count, countInit, countMax, summary }) => ({
      name: group,
      count,
      countInit,
      countMax,
      summary,
    })),
  };
}

// Nomad's blocking queries: 5 minutes by default, which is also the most (its servers' clamp),
// plus up to a sixteenth of jitter so that many clients woken alike do not return alike.
export const DEFAULT_WAIT_MS = 300_000;
export const MAX_WAIT_MS = 300_000;

// The `waitIndex` request header: absent or 0 answers at once (as Nomad's index 0 does).
export function waitIndexOf(header: string | undefined): number | null {
  if (header === undefined || header.trim() === '') return null;
  const value = header.trim();
  if (!/^\d{1,15}$/.test(value))
    throw genvidBadRequest('waitIndex must be a non-negative integer, the waitIndex of an earlier answer');
  const index = Number(value);
  return index === 0 ? null : index;
}

// `?wait=` (Nomad's, optional): how long to block, `10s`, `5m`, `500ms`; at most MAX_WAIT_MS.
export function waitMsOf(wait: string | undefined, random: () => number = Math.random): number {
  let ms = DEFAULT_WAIT_MS;
  if (wait !== undefined) {
    const parsed = parseDuration(wait);
    if (parsed === undefined || parsed === null || parsed < 0)
      throw genvidBadRequest(`wait must be a duration such as 10s or 5m, at most ${MAX_WAIT_MS / 1000}s`);
    ms = Math.min(parsed, MAX_WAIT_MS);
  }
  return ms + Math.floor(random() * (ms / 16));
}
