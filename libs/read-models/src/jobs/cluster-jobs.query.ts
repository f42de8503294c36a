import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import type { JobState, JobTags } from '@spindle/contracts';
import { StreamRowTable } from '@spindle/backbone';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
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

export interface ClusterJobFilter {
  readonly ids?: readonly string[];
  readonly states?: readonly JobState[];
  readonly clusters?: readonly string[];
  readonly tags?: JobTags; // every one must match
  readonly search?: string; // name or id, case-insensitive substring
}

export interface ClusterJobPageRequest {
  readonly offset: number;
  readonly limit: number;
  readonly sort: readonly { readonly field: ClusterJobSortField; readonly ascending: boolean }[];
}

// The jobs sent to a named cluster (Ilum's single jobs), from the jobs read model: offset pages
// with their real total, sorted as asked and then newest first.
@Injectable()
export class ClusterJobsQuery {
  private table: StreamRowTable<JobView> | undefined;

  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async page(
    filter: ClusterJobFilter,
    request: ClusterJobPageRequest,
  ): Promise<{ rows: JobView[]; total: number }> {
    const { where, parameters } = whereOf(filter);
    const n = parameters.length;
    const order = [
      ...request.sort.map((s) => `${COLUMN_OF[s.field]} ${s.ascending ? 'asc' : 'desc'} nulls last`),
      'id desc',
    ].join(', ');
    const [rows, counted] = await Promise.all([
      this.rows().select(
        this.dataSource.manager,
        `${where} order by ${order} limit $${n + 1} offset $${n + 2}`,
        [...parameters, request.limit, request.offset],
      ),
      this.dataSource.query<{ n: number }[]>(
        `select count(*)::int as n from ${this.rows().qualifiedName} ${where}`,
        parameters,
      ),
    ]);
    return { rows, total: counted[0]?.n ?? 0 };
  }

  private rows(): StreamRowTable<JobView> {
    this.table ??= StreamRowTable.of<JobView>(this.dataSource.manager, JobView);
    return this.table;
  }
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

function whereOf(filter: ClusterJobFilter): { where: string; parameters: unknown[] } {
  const conditions = ['cluster is not null'];
  const parameters: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    parameters.push(value);
    conditions.push(sql(`$${parameters.length}`));
  };
  if (filter.ids !== undefined) add((n) => `id::text = any(${n}::text[])`, filter.ids);
  if (filter.states !== undefined) add((n) => `state = any(${n}::text[])`, filter.states);
  if (filter.clusters !== undefined) add((n) => `cluster = any(${n}::text[])`, filter.clusters);
  if (filter.tags !== undefined && Object.keys(filter.tags).length > 0)
    add((n) => `tags @> ${n}::jsonb`, JSON.stringify(filter.tags));
  if (filter.search !== undefined && filter.search !== '') {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    add((n) => `(name ilike ${n} escape '\\' or id::text ilike ${n} escape '\\')`, pattern);
  }
  return { where: `where ${conditions.join(' and ')}`, parameters };
}
