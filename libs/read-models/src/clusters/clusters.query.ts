import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull } from 'typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import { liveJobsOnCluster } from '../jobs/cluster-jobs.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ClusterView } from './cluster.view';

export const CLUSTER_SORT_FIELDS = ['name', 'type', 'createdTime', 'id'] as const;
export type ClusterSortField = (typeof CLUSTER_SORT_FIELDS)[number];
const COLUMN_OF: Record<ClusterSortField, string> = {
  name: 'v.name',
  type: 'v.type',
  createdTime: 'v.created_at',
  id: 'v.id',
};

// Each read model whose rows use clusters, answering what uses one (by name; at most `limit`
// names such as `job <id>`). Groups add theirs here.
export type ClusterUsers = (dataSource: DataSource, cluster: string, limit: number) => Promise<string[]>;
export const CLUSTER_USERS: readonly ClusterUsers[] = [liveJobsOnCluster];
const USERS_NAMED = 10; // enough to say why a delete is refused

export interface OffsetPageRequest {
  readonly offset: number;
  readonly limit: number;
  readonly sort: readonly { readonly field: ClusterSortField; readonly ascending: boolean }[];
  readonly search?: string;
}

@Injectable()
export class ClustersQuery extends NamedViewQuery<ClusterView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, ClusterView);
  }

  async findById(id: string): Promise<ClusterView | null> {
    return this.dataSource.getRepository(ClusterView).findOneBy({ id, deletedAt: IsNull() });
  }

  // Ids are never reused, not even a deleted cluster's (its secret and history are named by it).
  async idEverUsed(id: string): Promise<boolean> {
    return this.dataSource.getRepository(ClusterView).existsBy({ id });
  }

  // An offset page with its real total (Ilum's Spring pages), sorted as asked, then by name.
  async page(request: OffsetPageRequest): Promise<{ rows: ClusterView[]; total: number }> {
    const query = this.dataSource
      .getRepository(ClusterView)
      .createQueryBuilder('v')
      .where('v.deleted_at is null');
    if (request.search) {
      query.andWhere(
        "(v.name ilike :search escape '\\' or v.definition->>'description' ilike :search escape '\\')",
        {
          search: `%${request.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
        },
      );
    }
    for (const s of request.sort) query.addOrderBy(COLUMN_OF[s.field], s.ascending ? 'ASC' : 'DESC');
    // Name last, as the tie-break, unless asked for (a second order on one column replaces the first).
    if (!request.sort.some((s) => s.field === 'name')) query.addOrderBy('v.name', 'ASC');
    query.offset(request.offset).limit(request.limit);
    const [rows, total] = await query.getManyAndCount();
    return { rows, total };
  }

  async names(): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(ClusterView)
      .createQueryBuilder('v')
      .select('v.name', 'name')
      .where('v.deleted_at is null')
      .orderBy('v.name', 'ASC')
      .getRawMany<{ name: string }>();
    return rows.map((r) => r.name);
  }

  // What still uses a cluster, which keeps it from being deleted.
  async usersOf(name: string): Promise<string[]> {
    const users = await Promise.all(CLUSTER_USERS.map((users) => users(this.dataSource, name, USERS_NAMED)));
    return users.flat();
  }
}
