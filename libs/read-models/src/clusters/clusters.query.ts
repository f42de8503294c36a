import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsNull } from 'typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import { containsPattern, offsetPage } from '../offset-page';
import type { OffsetPageRequest } from '../offset-page';
import { liveJobsOnCluster } from '../jobs/cluster-jobs.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { GroupsQuery } from '../groups/groups.query';
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
// names such as `job <id>`, `group <name>`).
export type ClusterUsers = (dataSource: DataSource, cluster: string, limit: number) => Promise<string[]>;
const groupsOnCluster: ClusterUsers = async (dataSource, cluster, limit) =>
  (await new GroupsQuery(dataSource).namesOnCluster(cluster, limit)).map((group) => `group ${group}`);
export const CLUSTER_USERS: readonly ClusterUsers[] = [liveJobsOnCluster, groupsOnCluster];
const USERS_NAMED = 10; // enough to say why a delete is refused

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
  async page(request: OffsetPageRequest<ClusterSortField>): Promise<{ rows: ClusterView[]; total: number }> {
    const query = this.dataSource
      .getRepository(ClusterView)
      .createQueryBuilder('v')
      .where('v.deleted_at is null');
    if (request.search) {
      query.andWhere(
        "(v.name ilike :search escape '\\' or v.definition->>'description' ilike :search escape '\\')",
        { search: containsPattern(request.search) },
      );
    }
    return offsetPage(query, request, COLUMN_OF, 'name');
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
