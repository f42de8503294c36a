import { isServiceJobEvent } from './service-job.events';
import type { AllocationOutcome, AllocationState, ServiceTaskGroup } from './service-job.events';
import type { SpindleEvent } from '../event-registry';

export interface TaskGroupStatus extends ServiceTaskGroup {
  readonly count: number; // instances wanted now
  readonly ended: Readonly<Record<AllocationOutcome, number>>;
  // Ends in a row of instances that ran less than RESTART_STREAK_RESET_MS: the back-off's exponent.
  readonly streak: number;
  readonly lastEndedAt: string | null;
}

export interface AllocationStatus {
  readonly id: string;
  readonly taskGroup: string;
  readonly state: AllocationState;
  readonly placedAt: string;
  readonly runningSince: string | null;
}

// A service job folded from its stream: what the scheduler decides on and the read model shows.
export interface ServiceJobStatus {
  readonly name: string;
  readonly started: boolean;
  readonly deleted: boolean;
  readonly taskGroups: readonly TaskGroupStatus[];
  readonly allocations: readonly AllocationStatus[]; // live ones only
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const SERVICE_JOB_STATUSES = ['pending', 'running', 'dead'] as const;
export type ServiceJobStatusName = (typeof SERVICE_JOB_STATUSES)[number];

export interface TaskGroupSummary {
  readonly queued: number;
  readonly starting: number;
  readonly running: number;
  readonly complete: number;
  readonly failed: number;
  readonly lost: number;
}

// An instance that ran this long before it ended restarts at once, and resets the back-off.
export const RESTART_STREAK_RESET_MS = 10_000;
const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;

// How long an instance of a group whose instances ended `streak` times in a row waits to restart.
export function restartDelayMs(streak: number): number {
  return streak <= 0 ? 0 : Math.min(RESTART_BASE_MS * 2 ** (streak - 1), RESTART_MAX_MS);
}

const noEnds: Record<AllocationOutcome, number> = { complete: 0, failed: 0, lost: 0 };

// Pure: a service job's stream, event by event (the scheduler's decider and the projector alike).
export function foldServiceJob(state: ServiceJobStatus | null, event: SpindleEvent): ServiceJobStatus | null {
  if (!isServiceJobEvent(event)) throw new Error(`unexpected ${event.type} in a service job stream`);
  const at = event.occurredAt;
  if (event.type === 'ServiceJobCreated')
    return {
      name: event.data.name,
      started: false,
      deleted: false,
      taskGroups: event.data.taskGroups.map((g) => ({
        ...g,
        count: 0,
        ended: noEnds,
        streak: 0,
        lastEndedAt: null,
      })),
      // Instances of an earlier incarnation of the name that are still stopping stay counted.
      allocations: state?.allocations ?? [],
      createdAt: at,
      updatedAt: at,
    };
  if (!state) return null;
  const touched = { ...state, updatedAt: at };
  const groups = (f: (g: TaskGroupStatus) => TaskGroupStatus) => touched.taskGroups.map(f);
  switch (event.type) {
    case 'ServiceJobStarted':
      return {
        ...touched,
        started: true,
        taskGroups: groups((g) => ({ ...g, count: g.countInit, streak: 0 })),
      };
    case 'ServiceJobStopped':
      return { ...touched, started: false, taskGroups: groups((g) => ({ ...g, count: 0 })) };
    case 'ServiceJobCountSet':
      return {
        ...touched,
        taskGroups: groups((g) => (g.name === event.data.taskGroup ? { ...g, count: event.data.count } : g)),
      };
    case 'ServiceJobDeleted':
      return { ...touched, started: false, deleted: true, taskGroups: groups((g) => ({ ...g, count: 0 })) };
    case 'AllocationPlaced':
      return {
        ...touched,
        allocations: [
          ...state.allocations,
          {
            id: event.data.allocId,
            taskGroup: event.data.taskGroup,
            state: 'queued',
            placedAt: at,
            runningSince: null,
          },
        ],
      };
    case 'AllocationChanged':
      return {
        ...touched,
        allocations: state.allocations.map((a) =>
          a.id === event.data.allocId
            ? {
                ...a,
                state: event.data.state,
                runningSince: event.data.state === 'running' ? at : a.runningSince,
              }
            : a,
        ),
      };
    case 'AllocationEnded': {
      const alloc = state.allocations.find((a) => a.id === event.data.allocId);
      if (!alloc) return touched;
      const { outcome, stopped } = event.data;
      const ranMs = alloc.runningSince ? Date.parse(at) - Date.parse(alloc.runningSince) : 0;
      return {
        ...touched,
        allocations: state.allocations.filter((a) => a.id !== alloc.id),
        taskGroups: groups((g) => {
          if (g.name !== alloc.taskGroup) return g;
          const ended = { ...g.ended, [outcome]: g.ended[outcome] + 1 };
          if (stopped) return { ...g, ended };
          const streak = ranMs >= RESTART_STREAK_RESET_MS ? 1 : g.streak + 1;
          return { ...g, ended, streak, lastEndedAt: at };
        }),
      };
    }
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected service job event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

// Nomad's job status: dead when not started (never, or stopped), running while any instance runs,
// pending while started with none running yet.
export function serviceJobStatusOf(job: ServiceJobStatus): ServiceJobStatusName {
  if (!job.started) return 'dead';
  return job.allocations.some((a) => a.state === 'running') ? 'running' : 'pending';
}

export function summaryOf(job: ServiceJobStatus, group: TaskGroupStatus): TaskGroupSummary {
  const live = job.allocations.filter((a) => a.taskGroup === group.name);
  const inState = (s: AllocationState) => live.filter((a) => a.state === s).length;
  return {
    queued: inState('queued'),
    starting: inState('starting'),
    running: inState('running'),
    ...group.ended,
  };
}

// Instances a group should have now: its count while the job is started, else none.
export function wantedCount(job: ServiceJobStatus, group: TaskGroupStatus): number {
  return job.started && !job.deleted ? group.count : 0;
}

// How many instances of each group to place at `now`: the ones missing from its count, once the
// back-off after the last end has passed.
export function allocationsToPlace(job: ServiceJobStatus, now: Date): Map<string, number> {
  const due = new Map<string, number>();
  for (const group of job.taskGroups) {
    const missing =
      wantedCount(job, group) - job.allocations.filter((a) => a.taskGroup === group.name).length;
    if (missing <= 0) continue;
    const resumeAt = group.lastEndedAt ? Date.parse(group.lastEndedAt) + restartDelayMs(group.streak) : 0;
    if (now.getTime() >= resumeAt) due.set(group.name, missing);
  }
  return due;
}

// When the next back-off ends (ms since epoch), for a group still waiting on one; null if none waits.
export function nextRestartAt(job: ServiceJobStatus, now: Date): number | null {
  let next: number | null = null;
  for (const group of job.taskGroups) {
    const missing =
      wantedCount(job, group) - job.allocations.filter((a) => a.taskGroup === group.name).length;
    if (missing <= 0 || !group.lastEndedAt) continue;
    const at = Date.parse(group.lastEndedAt) + restartDelayMs(group.streak);
    if (at > now.getTime()) next = next === null ? at : Math.min(next, at);
  }
  return next;
}

// Instances beyond their group's count, the newest first: the ones to stop.
export function allocationsToStop(job: ServiceJobStatus): AllocationStatus[] {
  return job.taskGroups.flatMap((group) => {
    const live = job.allocations
      .filter((a) => a.taskGroup === group.name)
      .sort((a, b) => b.placedAt.localeCompare(a.placedAt) || b.id.localeCompare(a.id));
    return live.slice(0, Math.max(0, live.length - wantedCount(job, group)));
  });
}
