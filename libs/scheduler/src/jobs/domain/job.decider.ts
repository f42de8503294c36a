import {
  EventTopics,
  FINISHED_JOB_STATES,
  PLACED_JOB_STATES,
  commandError,
  isJobEvent,
  jobStreamId,
} from '@spindle/contracts';
import type {
  CommandError,
  JobEvent,
  SpindleEvent,
  JobSubmittedV1,
  JobState,
  JobTask,
  LogTotals,
  NewEvent,
  TaskOutcome,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

export type JobStatus =
  | { readonly state: 'absent' }
  | {
      readonly state: JobState;
      readonly workerId: string | null;
      readonly hostId: string | null;
      readonly attempt: number; // 1, then one more each time it is put back in its queue
      // What a worker needs to run it, as submitted (null only for a stream that began otherwise).
      readonly task: JobTask | null;
      readonly deleted?: true; // forgotten at its client's request (JobDeleted)
    };

export type SubmittedJob = JobSubmittedV1;

// Everything that can be asked of a job: by a client (submit, cancel), by the dispatcher (assign,
// expire, lose) and, through the scheduler, by the worker agent that runs it (started, finish).
export type JobCommand =
  // `placement`: assigned as it is recorded, when its context's pool has room (submit-placement.ts).
  | {
      readonly kind: 'submit';
      readonly id: string;
      readonly job: SubmittedJob;
      readonly placement?: { readonly workerId: string; readonly hostId: string };
    }
  | { readonly kind: 'cancel'; readonly id: string }
  | { readonly kind: 'delete'; readonly id: string }
  // The task the worker is given is the job's own, from its stream.
  | { readonly kind: 'assign'; readonly id: string; readonly workerId: string; readonly hostId: string }
  | { readonly kind: 'started'; readonly id: string; readonly workerId: string; readonly pid: number }
  | {
      readonly kind: 'finish';
      readonly id: string;
      readonly workerId: string;
      readonly outcome: TaskOutcome;
      readonly result: unknown;
      readonly error: string | null;
      readonly log: LogTotals;
    }
  | { readonly kind: 'refuse'; readonly id: string; readonly reason: string }
  | { readonly kind: 'expire-start'; readonly id: string }
  | { readonly kind: 'expire-perform'; readonly id: string }
  // Its process is gone without a report. `retries`: its whole host died, and this is the job's
  // retry policy, which may answer with another attempt.
  | {
      readonly kind: 'lose';
      readonly id: string;
      readonly workerId: string;
      readonly reason: string;
      readonly retries?: number;
    };

export function evolveJob(state: JobStatus, event: SpindleEvent): JobStatus {
  if (!isJobEvent(event)) throw new Error(`unexpected ${event.type} in a job stream`);
  const placed = state.state === 'absent' ? { workerId: null, hostId: null, attempt: 1, task: null } : state;
  switch (event.type) {
    case 'JobSubmitted':
      return { state: 'queued', workerId: null, hostId: null, attempt: 1, task: taskOf(event.data) };
    case 'JobAssigned':
      return { ...placed, state: 'starting', workerId: event.data.workerId, hostId: event.data.hostId };
    case 'JobStarted':
      return { ...placed, state: 'running' };
    case 'JobRequeued':
      return { ...placed, state: 'queued', workerId: null, hostId: null, attempt: event.data.attempt };
    case 'JobCancelRequested':
      return { ...placed, state: 'cancelling' };
    case 'JobSucceeded':
      return { ...placed, state: 'succeeded' };
    case 'JobFailed':
      return { ...placed, state: 'failed' };
    case 'JobCancelled':
      return { ...placed, state: 'cancelled' };
    case 'JobTimedOut':
      return { ...placed, state: 'timed_out' };
    case 'JobDeleted':
      return state.state === 'absent' ? state : { ...state, deleted: true };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected job event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

// What a worker needs to run the job: its submit's, less what only the record keeps.
function taskOf(job: SubmittedJob): JobTask {
  const { function: fn, context, args, program, performTimeoutMs, secrets } = job;
  return { function: fn, context, args, program, performTimeoutMs, ...(secrets ? { secrets } : {}) };
}

// Reports and timers race each other (a task may finish as its timeout fires, a cancel may cross a
// finish): whatever comes second finds the job already moved on and changes nothing.
export function decideJob(
  command: JobCommand,
  state: JobStatus,
): readonly NewEvent<JobEvent>[] | CommandError {
  const id = command.id;
  if (command.kind === 'submit') {
    if (state.state !== 'absent') return commandError('conflict', `job ${id} already exists`, 'id');
    const submitted: NewEvent<JobEvent> = { type: 'JobSubmitted', version: 1, data: command.job };
    if (!command.placement) return [submitted];
    const { workerId, hostId } = command.placement;
    return [
      submitted,
      { type: 'JobAssigned', version: 1, data: { id, workerId, hostId, task: taskOf(command.job) } },
    ];
  }
  if (state.state === 'absent') return commandError('not_found', `job ${id} does not exist`, 'id');
  const active = PLACED_JOB_STATES.includes(state.state);
  const onWorker = (workerId: string): boolean => active && state.workerId === workerId;
  switch (command.kind) {
    case 'cancel':
      if (state.state === 'queued')
        return [
          {
            type: 'JobCancelled',
            version: 1,
            data: { id, reason: 'cancelled before it started', log: null },
          },
        ];
      // A placed job always has its worker and host (JobAssigned set them).
      if ((state.state === 'starting' || state.state === 'running') && state.workerId && state.hostId)
        return [
          {
            type: 'JobCancelRequested',
            version: 1,
            data: { id, workerId: state.workerId, hostId: state.hostId },
          },
        ];
      return []; // cancelling already, or finished: left as it is
    case 'delete':
      if (state.deleted) return []; // deleted already: a retried delete changes nothing
      if (!FINISHED_JOB_STATES.includes(state.state))
        return commandError('conflict', `job ${id} is ${state.state}: only an ended job is deleted`, 'id');
      return [{ type: 'JobDeleted', version: 1, data: { id } }];
    case 'assign':
      if (state.state !== 'queued')
        return commandError('conflict', `job ${id} is ${state.state}, not queued`, 'id');
      if (!state.task) return commandError('conflict', `job ${id} was recorded without its task`, 'id');
      return [
        {
          type: 'JobAssigned',
          version: 1,
          data: { id, workerId: command.workerId, hostId: command.hostId, task: state.task },
        },
      ];
    case 'started':
      if (state.state !== 'starting' || state.workerId !== command.workerId) return [];
      return [{ type: 'JobStarted', version: 1, data: { id, workerId: command.workerId, pid: command.pid } }];
    case 'finish':
      if (!onWorker(command.workerId)) return [];
      return [finished(command)];
    case 'refuse':
      if (state.state !== 'queued') return [];
      return [{ type: 'JobFailed', version: 1, data: { id, error: command.reason, log: null } }];
    case 'expire-start':
      if (state.state !== 'queued') return [];
      return [{ type: 'JobTimedOut', version: 1, data: { id, phase: 'start', log: null } }];
    case 'expire-perform':
      if (!active) return [];
      return [{ type: 'JobTimedOut', version: 1, data: { id, phase: 'perform', log: null } }];
    case 'lose':
      if (!onWorker(command.workerId)) return [];
      // A cancel in flight is answered by the loss itself: the job does not run again.
      if (state.state !== 'cancelling' && state.attempt <= (command.retries ?? 0))
        return [
          {
            type: 'JobRequeued',
            version: 1,
            data: { id, attempt: state.attempt + 1, reason: command.reason, workerId: command.workerId },
          },
        ];
      return [{ type: 'JobFailed', version: 1, data: { id, error: command.reason, log: null } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected job command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

function finished(command: Extract<JobCommand, { kind: 'finish' }>): NewEvent<JobEvent> {
  const { id, log } = command;
  switch (command.outcome) {
    case 'succeeded':
      return { type: 'JobSucceeded', version: 1, data: { id, result: command.result ?? null, log } };
    case 'failed':
      return { type: 'JobFailed', version: 1, data: { id, error: command.error ?? 'failed', log } };
    case 'cancelled':
      return { type: 'JobCancelled', version: 1, data: { id, reason: command.error ?? 'cancelled', log } };
    case 'timed_out':
      return { type: 'JobTimedOut', version: 1, data: { id, phase: 'perform', log } };
  }
}

export const jobDecider: Decider<JobCommand, JobStatus> = {
  initialState: { state: 'absent' },
  evolve: evolveJob,
  decide: decideJob,
};

export const jobCommands = {
  decider: jobDecider,
  topic: EventTopics.schedulerJob,
  streamIdOf: (command: JobCommand) => jobStreamId(command.id),
};
