import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import { FINISHED_JOB_STATES, GROUP_CONTEXT_PREFIX, PLACED_JOB_STATES } from '@spindle/contracts';
import type { JobState, JobTags } from '@spindle/contracts';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { GroupView } from '../groups/group.view';
import { WorkerView } from '../workers/worker.view';
import { JobView } from './job.view';

export const CLUSTER_JOB_SORT_FIELDS = [
  'jobId',
  'jobName',
  'state',
  'clusterName',
  'submitTime',
  'startTime',
  'endTime',
] as const;
export type ClusterJobSortField = (typeof CLUSTER_JOB_SORT_FIELDS)[number];
const COLUMN_OF: Record<ClusterJobSortField, string> = {
  jobId: 'id',
  jobName: 'name',
  state: 'state',
  clusterName: 'cluster',
  submitTime: 'created_at',
  startTime: 'started_at',
  endTime: 'finished_at',
};

// A group's worker (Ilum's interactive job) as the job list sees it: starting, idle or busy
// (running a request; a stopping worker finishing its request is still busy), or stopped.
export const WORKER_PHASES = ['starting', 'idle', 'busy', 'stopped'] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];

// The phase of the worker row `w`, as SQL: `jobsTable` the jobs read model's, `placedStates` a
// parameter holding PLACED_JOB_STATES. One expression for the job list and the group list.
export function workerPhaseSql(jobsTable: string, placedStates: string): string {
  const busy = `exists (select 1 from ${jobsTable} j where j.worker_id = w.id::text
                  and j.state = any(${placedStates}::text[]))`;
  return `case when w.state = 'starting' then 'starting' when w.state = 'stopped' then 'stopped'
               when ${busy} then 'busy' else 'idle' end`;
}

export interface ClusterJobFilter {
  readonly kinds?: readonly ClusterJobRow['kind'][]; // absent: both
  readonly ids?: readonly string[];
  readonly states?: readonly JobState[]; // of single jobs
  readonly phases?: readonly WorkerPhase[]; // of group workers
  readonly clusters?: readonly string[];
  readonly tags?: JobTags; // every one must match (a worker: its group's tags)
  readonly search?: string; // name (a worker: its group's) or id, case-insensitive substring
}

export interface ClusterJobPageRequest {
  readonly offset: number;
  readonly limit: number;
  readonly sort: readonly { readonly field: ClusterJobSortField; readonly ascending: boolean }[];
}

// What a cluster runs: the jobs sent to it (Ilum's single jobs) and the workers of its live groups
// (Ilum's interactive jobs), one list.
export type ClusterJobRow =
  | { readonly kind: 'single'; readonly job: JobView }
  | {
      readonly kind: 'interactive';
      readonly worker: WorkerView;
      readonly group: GroupView;
      readonly phase: WorkerPhase;
    };

// Offset pages of both, with their real total, sorted as asked and then newest first (job and
// worker ids are both time-ordered UUIDs). A page is read as (kind, id) in order, then its rows by
// id. Deleted jobs (JobDeleted) and the workers of deleted groups are not listed.
@Injectable()
export class ClusterJobsQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async page(
    filter: ClusterJobFilter,
    request: ClusterJobPageRequest,
  ): Promise<{ rows: ClusterJobRow[]; total: number }> {
    const { sql, parameters } = this.listed(filter);
    const n = parameters.length;
    const order = [
      ...request.sort.map((s) => `${COLUMN_OF[s.field]} ${s.ascending ? 'asc' : 'desc'} nulls last`),
      'id desc',
    ].join(', ');
    const [keys, counted] = await Promise.all([
      this.dataSource.query<{ kind: ClusterJobRow['kind']; id: string; phase: WorkerPhase | null }[]>(
        `select kind, id, phase from (${sql}) u order by ${order} limit $${n + 1} offset $${n + 2}`,
        [...parameters, request.limit, request.offset],
      ),
      this.dataSource.query<{ n: number }[]>(`select count(*)::int as n from (${sql}) u`, parameters),
    ]);
    return { rows: await this.rowsOf(keys), total: counted[0]?.n ?? 0 };
  }

  // One group worker by id, while its group lives.
  async worker(id: string): Promise<Extract<ClusterJobRow, { kind: 'interactive' }> | null> {
    const { sql, parameters } = this.listed({ kinds: ['interactive'], ids: [id] });
    const keys = await this.dataSource.query<{ kind: 'interactive'; id: string; phase: WorkerPhase }[]>(
      `select kind, id, phase from (${sql}) u`,
      parameters,
    );
    const [row] = await this.rowsOf(keys);
    return row?.kind === 'interactive' ? row : null;
  }

  // Both kinds as one relation of (kind, id, phase and the sort columns), filtered.
  private listed(filter: ClusterJobFilter): { sql: string; parameters: unknown[] } {
    const parameters: unknown[] = [];
    const param = (value: unknown): string => {
      parameters.push(value);
      return `$${parameters.length}`;
    };
    const jobs = this.dataSource.getMetadata(JobView).tablePath;
    const workers = this.dataSource.getMetadata(WorkerView).tablePath;
    const groups = this.dataSource.getMetadata(GroupView).tablePath;
    const wants = (kind: ClusterJobRow['kind']) => filter.kinds === undefined || filter.kinds.includes(kind);
    const parts: string[] = [];
    if (wants('single')) {
      const where = [
        'cluster is not null',
        'deleted_at is null',
        ...common(filter, param, 'id', 'name', 'cluster', 'tags'),
      ];
      if (filter.states !== undefined) where.push(`state = any(${param(filter.states)}::text[])`);
      parts.push(
        `select 'single' as kind, id, null::text as phase, name, state, cluster,
                created_at, started_at, finished_at
         from ${jobs} where ${where.join(' and ')}`,
      );
    }
    if (wants('interactive')) {
      const where = [
        'g.deleted_at is null',
        ...common(filter, param, 'w.id', 'g.name', 'g.cluster_name', 'g.tags'),
      ];
      const phase = workerPhaseSql(jobs, param(PLACED_JOB_STATES));
      const phases = filter.phases === undefined ? '' : `where phase = any(${param(filter.phases)}::text[])`;
      parts.push(
        `select * from (
           select 'interactive' as kind, w.id, ${phase} as phase, g.name, w.state,
                  g.cluster_name as cluster, w.created_at, w.started_at, w.stopped_at as finished_at
           from ${workers} w join ${groups} g on w.context = ${param(GROUP_CONTEXT_PREFIX)} || g.id
           where ${where.join(' and ')}) i ${phases}`,
      );
    }
    if (parts.length === 0)
      return {
        sql: 'select null::text as kind, null::uuid as id, null::text as phase where false',
        parameters,
      };
    return { sql: parts.join(' union all '), parameters };
  }

  private async rowsOf(
    keys: readonly { kind: ClusterJobRow['kind']; id: string; phase: WorkerPhase | null }[],
  ): Promise<ClusterJobRow[]> {
    const singleIds = keys.filter((k) => k.kind === 'single').map((k) => k.id);
    const workerIds = keys.filter((k) => k.kind === 'interactive').map((k) => k.id);
    const manager = this.dataSource.manager;
    const [jobs, workers] = await Promise.all([
      singleIds.length === 0 ? [] : manager.findBy(JobView, { id: In(singleIds) }),
      workerIds.length === 0 ? [] : manager.findBy(WorkerView, { id: In(workerIds) }),
    ]);
    const groupIds = [...new Set(workers.map((w) => w.context.slice(GROUP_CONTEXT_PREFIX.length)))];
    const groups = groupIds.length === 0 ? [] : await manager.findBy(GroupView, { id: In(groupIds) });
    const jobOf = new Map(jobs.map((j) => [j.id, j]));
    const workerOf = new Map(workers.map((w) => [w.id, w]));
    const groupOf = new Map(groups.map((g) => [GROUP_CONTEXT_PREFIX + g.id, g]));
    return keys.flatMap((k): ClusterJobRow[] => {
      if (k.kind === 'single') {
        const job = jobOf.get(k.id);
        return job ? [{ kind: 'single', job }] : [];
      }
      const worker = workerOf.get(k.id);
      const group = worker && groupOf.get(worker.context);
      return worker && group ? [{ kind: 'interactive', worker, group, phase: k.phase ?? 'idle' }] : [];
    });
  }
}

// The filters both kinds share, on the columns each keeps them in.
function common(
  filter: ClusterJobFilter,
  param: (value: unknown) => string,
  id: string,
  name: string,
  cluster: string,
  tags: string,
): string[] {
  const where: string[] = [];
  if (filter.ids !== undefined) where.push(`${id}::text = any(${param(filter.ids)}::text[])`);
  if (filter.clusters !== undefined) where.push(`${cluster} = any(${param(filter.clusters)}::text[])`);
  if (filter.tags !== undefined && Object.keys(filter.tags).length > 0)
    where.push(`${tags} @> ${param(JSON.stringify(filter.tags))}::jsonb`);
  if (filter.search !== undefined && filter.search !== '') {
    const pattern = param(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`(${name} ilike ${pattern} escape '\\' or ${id}::text ilike ${pattern} escape '\\')`);
  }
  return where;
}

// What of the jobs uses a cluster: those sent to it that have not finished (`job <id>`, newest
// first, at most `limit`). One of the cluster's users (clusters.query.ts, CLUSTER_USERS).
export async function liveJobsOnCluster(
  dataSource: DataSource,
  cluster: string,
  limit: number,
): Promise<string[]> {
  const table = dataSource.getMetadata(JobView).tablePath;
  const rows = await dataSource.query<{ id: string }[]>(
    `select id from ${table} where cluster = $1 and not (state = any($2::text[])) order by id desc limit $3`,
    [cluster, FINISHED_JOB_STATES, limit],
  );
  return rows.map((r) => `job ${r.id}`);
}
