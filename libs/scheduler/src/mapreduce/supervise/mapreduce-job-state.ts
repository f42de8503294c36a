import type { EntityManager } from 'typeorm';
import { isMapReduceJobEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { SCHEDULER_SCHEMA } from '../../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// Keeps `mapreduce_jobs` true to the events just appended, in the same transaction: a job is in it
// from its submit to its end, with the host its current run is on.
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
        break;
      case 'MapReduceJobStopRequested':
        await manager.query(`update ${s}.mapreduce_jobs set state = 'stopping' where id = $1`, [id]);
        break;
      case 'MapReduceJobSucceeded':
      case 'MapReduceJobFailed':
      case 'MapReduceJobStopped':
        await manager.query(`delete from ${s}.mapreduce_jobs where id = $1`, [id]);
        break;
      case 'MapReduceJobPlanned':
      case 'MapReduceTaskStarted':
      case 'MapReduceTaskSucceeded':
      case 'MapReduceTaskFailed':
      case 'MapReduceTaskStopped':
        break; // task progress: the supervisor does not need it
      default: {
        const unknownEvent: never = event;
        throw new Error(`unexpected MapReduce event ${JSON.stringify(unknownEvent)}`);
      }
    }
  }
}
