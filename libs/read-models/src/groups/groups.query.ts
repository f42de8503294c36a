import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull } from 'typeorm';
import type { DataSource } from 'typeorm';
import { GROUP_CONTEXT_PREFIX, PLACED_JOB_STATES } from '@spindle/contracts';
import type { GroupKind, GroupState } from '@spindle/contracts';
import { workerPhaseSql } from '../jobs/cluster-jobs.query';
import type { WorkerPhase } from '../jobs/cluster-jobs.query';
import { JobView } from '../jobs/job.view';
import { WorkerView } from '../workers/worker.view';
import { NamedViewQuery } from '../named-view.query';
import { containsPattern, offsetPage } from '../offset-page';
import type { OffsetPageRequest } from '../offset-page';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { GroupView } from './group.view';

export const GROUP_SORT_FIELDS = [
  'name',
  'createdTime',
  'archivedTime',
  'state',
  'kind',
  'clusterName',
  'scale',
  'id',
] as const;
export type GroupSortField = (typeof GROUP_SORT_FIELDS)[number];
const COLUMN_OF: Record<GroupSortField, string> = {
  name: 'v.name',
  createdTime: 'v.created_at',
  archivedTime: 'v.archived_at',
  state: 'v.state',
  kind: 'v.kind',
  clusterName: 'v.cluster_name',
  scale: 'v.scale',
  id: 'v.id',
};

// Every filter of Ilum's group list; each one left out (or empty) does not narrow.
export interface GroupFilter {
  readonly states?: readonly GroupState[];
  readonly kinds?: readonly GroupKind[];
  readonly clusterNames?: readonly string[];
  // Every pair must be among the group's tags.
  readonly tags?: Readonly<Record<string, string>>;
  // Groups with a worker in one of these phases (Ilum's jobStates); empty: none.
  readonly workerPhases?: readonly WorkerPhase[];
}

@Injectable()
export class GroupsQuery extends NamedViewQuery<GroupView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, GroupView);
  }

  async findById(id: string): Promise<GroupView | null> {
    return this.dataSource.getRepository(GroupView).findOneBy({ id, deletedAt: IsNull() });
  }

  // An offset page with its real total (Ilum's Spring pages), filtered, sorted as asked, then by name.
  async page(
    request: OffsetPageRequest<GroupSortField> & GroupFilter,
  ): Promise<{ rows: GroupView[]; total: number }> {
    const query = this.dataSource
      .getRepository(GroupView)
      .createQueryBuilder('v')
      .where('v.deleted_at is null');
    if (request.states?.length) query.andWhere('v.state in (:...states)', { states: request.states });
    if (request.kinds?.length) query.andWhere('v.kind in (:...kinds)', { kinds: request.kinds });
    if (request.clusterNames?.length)
      query.andWhere('v.cluster_name in (:...clusters)', { clusters: request.clusterNames });
    if (request.tags && Object.keys(request.tags).length > 0)
      query.andWhere('v.tags @> :tags::jsonb', { tags: JSON.stringify(request.tags) });
    if (request.workerPhases !== undefined) {
      const workers = this.dataSource.getMetadata(WorkerView).tablePath;
      const jobs = this.dataSource.getMetadata(JobView).tablePath;
      query.andWhere(
        `exists (select 1 from ${workers} w where w.context = :groupContext || v.id
                   and (${workerPhaseSql(jobs, ':placedStates')}) = any(:workerPhases::text[]))`,
        {
          groupContext: GROUP_CONTEXT_PREFIX,
          placedStates: PLACED_JOB_STATES,
          workerPhases: request.workerPhases,
        },
      );
    }
    if (request.search) {
      query.andWhere("(v.name ilike :search escape '\\' or v.description ilike :search escape '\\')", {
        search: containsPattern(request.search),
      });
    }
    return offsetPage(query, request, COLUMN_OF, 'name');
  }

  // The live groups on a cluster, by name (what keeps the cluster from being deleted).
  async namesOnCluster(clusterName: string, limit: number): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(GroupView)
      .createQueryBuilder('v')
      .select('v.name', 'name')
      .where('v.deleted_at is null and v.cluster_name = :clusterName', { clusterName })
      .orderBy('v.name', 'ASC')
      .limit(limit)
      .getRawMany<{ name: string }>();
    return rows.map((r) => r.name);
  }
}
