import type { EntityManager } from 'typeorm';
import { isMapReduceJobEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// Keeps `mapreduce_jobs` and `mapreduce_tasks` true to the events just appended, in the same
// transaction: a job is in it from its submit to its end, with the host its current run (its
// coordinator) is on; an attempt of a task from the coordinator's asking to its end, with its host.
export async function applyMapReduceJobState(
  manager: EntityManager,
  appended: readonly SpindleEvent[],
): Promise<void> {
  for (const event of appended.filter(isMapReduceJobEvent)) {
    const { id } = event.data;
    switch (event.type) {
      case 'MapReduceJobSubmitted':
        await manager.query(
          `insert into ${s}.mapreduce_jobs (id, state, run, definition) values ($1, 'running', 0, $2)
           on conflict (id) do nothing`,
          [id, JSON.stringify(event.data)],
        );
        break;
      case 'MapReduceJobAssigned':
        await manager.query(
          `update ${s}.mapreduce_jobs set run = $2, host_id = $3, incarnation = $4 where id = $1`,
          [id, event.data.run, event.data.hostId, event.data.incarnation],
        );
        // A new run starts every task over: the older run's attempts are not waited for.
        await manager.query(`delete from ${s}.mapreduce_tasks where job_id = $1`, [id]);
        break;
      case 'MapReduceJobStopRequested':
        await manager.query(`update ${s}.mapreduce_jobs set state = 'stopping' where id = $1`, [id]);
        break;
      case 'MapReduceJobSucceeded':
      case 'MapReduceJobFailed':
      case 'MapReduceJobStopped':
        await manager.query(`delete from ${s}.mapreduce_jobs where id = $1`, [id]);
        await manager.query(`delete from ${s}.mapreduce_tasks where job_id = $1`, [id]);
        break;
      case 'MapReduceTaskReady':
        await manager.query(
          `insert into ${s}.mapreduce_tasks (job_id, task_id, kind, run, attempt, open)
           values ($1, $2, $3, $4, $5, true)
           on conflict (job_id, task_id) do update
             set kind = $3, run = $4, attempt = $5, open = true, host_id = null, incarnation = null`,
          [id, event.data.taskId, event.data.kind, event.data.run, event.data.attempt],
        );
        break;
      case 'MapReduceTaskAssigned':
        await manager.query(
          `update ${s}.mapreduce_tasks set host_id = $4, incarnation = $5
           where job_id = $1 and task_id = $2 and attempt = $3`,
          [id, event.data.taskId, event.data.attempt, event.data.hostId, event.data.incarnation],
        );
        break;
      case 'MapReduceTaskFailed':
        // Its slot is free again; a retry keeps off the host it failed on where it can.
        await manager.query(
          `update ${s}.mapreduce_tasks
           set open = false, avoid_host_id = coalesce(host_id, avoid_host_id), host_id = null, incarnation = null
           where job_id = $1 and task_id = $2 and attempt = $3`,
          [id, event.data.taskId, event.data.attempt],
        );
        break;
      case 'MapReduceTaskSucceeded':
      case 'MapReduceTaskStopped':
        await manager.query(
          `delete from ${s}.mapreduce_tasks where job_id = $1 and task_id = $2 and attempt = $3`,
          [id, event.data.taskId, event.data.attempt],
        );
        break;
      case 'MapReduceJobPlanned':
      case 'MapReduceTaskStarted':
        break; // progress the supervisor does not place by
      default: {
        const unknownEvent: never = event;
        throw new Error(`unexpected MapReduce event ${JSON.stringify(unknownEvent)}`);
      }
    }
  }
}
