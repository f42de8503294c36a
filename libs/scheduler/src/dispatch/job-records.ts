import type { DataSource } from 'typeorm';
import { functionStreamId, jobStreamId } from '@spindle/contracts';
import type { JobSubmittedV1 } from '@spindle/contracts';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// The jobs as submitted (each job stream's first event), read in one query for many jobs.
export async function submittedJobs(
  dataSource: DataSource,
  ids: readonly string[],
): Promise<Map<string, JobSubmittedV1>> {
  if (ids.length === 0) return new Map();
  const rows: { data: JobSubmittedV1 }[] = await dataSource.query(
    `select data from ${s}.events where stream_id = any($1::text[]) and stream_position = 1`,
    [ids.map(jobStreamId)],
  );
  return new Map(rows.map((r) => [r.data.id, r.data]));
}

// The retry policy each job was submitted with; a job recorded without one follows its
// function's current policy (none once the function is deleted).
export async function retryPoliciesOf(
  dataSource: DataSource,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const submitted = await submittedJobs(dataSource, ids);
  const unrecorded = [...submitted.values()].filter((j) => j.retries === undefined).map((j) => j.function);
  const functions = new Map<string, number>();
  if (unrecorded.length > 0) {
    const rows: { stream_id: string; type: string; data: { retries?: number } }[] = await dataSource.query(
      `select distinct on (stream_id) stream_id, type, data from ${s}.events
       where stream_id = any($1::text[]) order by stream_id, stream_position desc`,
      [[...new Set(unrecorded)].map(functionStreamId)],
    );
    for (const row of rows)
      functions.set(row.stream_id, row.type === 'FunctionDeleted' ? 0 : (row.data.retries ?? 0));
  }
  return new Map(
    ids.map((id) => {
      const job = submitted.get(id);
      if (!job) return [id, 0];
      return [id, job.retries ?? functions.get(functionStreamId(job.function)) ?? 0];
    }),
  );
}
