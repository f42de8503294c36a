import type { MapReduceProgressedV1 } from '@spindle/contracts';
import type { MapReduceJobCommand } from '../domain/mapreduce-job.decider';

// A host's report of its MapReduce run (or of a task of one it runs), as the command on the job's stream that records it.
export function mapReduceCommandOf(report: MapReduceProgressedV1): MapReduceJobCommand {
  const { jobId: id, run, step } = report;
  switch (step.type) {
    case 'planned':
      return { kind: 'plan', id, run, maps: step.maps, reducers: step.reducers };
    case 'task-ready':
      return { kind: 'task-ready', id, run, taskId: step.taskId, taskKind: step.kind, attempt: step.attempt };
    case 'task-started':
      return {
        kind: 'task-started',
        id,
        run,
        taskId: step.taskId,
        taskKind: step.kind,
        attempt: step.attempt,
      };
    case 'task-succeeded':
      return { kind: 'task-succeeded', id, run, taskId: step.taskId, attempt: step.attempt };
    case 'task-failed':
      return {
        kind: 'task-failed',
        id,
        run,
        taskId: step.taskId,
        attempt: step.attempt,
        error: step.error,
        retried: step.retried,
      };
    case 'task-stopped':
      return { kind: 'task-stopped', id, run, taskId: step.taskId, attempt: step.attempt };
    case 'finished':
      return { kind: 'finish', id, run, outcome: step.outcome };
    default: {
      const unknownStep: never = step;
      throw new Error(`unexpected MapReduce step ${JSON.stringify(unknownStep)}`);
    }
  }
}
