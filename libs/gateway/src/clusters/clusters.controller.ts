import { IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { Body, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiForbiddenResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ClustersQuery } from '@spindle/read-models';
import type { ClusterView } from '@spindle/read-models';
import { CorrelationId, ValidationProblem } from '@spindle/platform';
import { ReadsFrom } from '../consistency/consistent-read';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import {
  CreateRoute,
  DeleteRoute,
  GetRoute,
  ListRoute,
  ResourceController,
} from '../resources/resource-routes';
import type { ResourceRoutes } from '../resources/resource-routes';
import { PageQueryDto } from '../pagination.dto';
import { ClusterDefinitions, clustersById } from './cluster-definitions.service';
import { parseClusterRequest } from './cluster-request';
import { CLUSTER_REQUEST_SCHEMA, ClusterDto, ClusterPageDto } from './cluster.dto';

const CLUSTERS: ResourceRoutes = {
  tag: 'clusters',
  path: 'api/v1/clusters',
  noun: 'cluster',
  key: { name: 'id', description: 'Cluster id', example: 'default' },
  readModel: 'clusters',
  dto: ClusterDto,
  pageDto: ClusterPageDto,
};

@ResourceController(CLUSTERS)
export class ClustersController {
  private readonly resource: NamedResource<ClusterView, ClusterDto>;

  constructor(
    private readonly definitions: ClusterDefinitions,
    clusters: ClustersQuery,
    resources: NamedResources,
  ) {
    this.resource = clustersById(resources, clusters, (row) => ClusterDto.from(row));
  }

  @CreateRoute(
    CLUSTERS,
    {
      summary: 'Define a cluster (local, k8s or yarn); its credentials go to the secrets service',
      conflict: 'A cluster with this name or id exists',
    },
    ApiBody({ schema: CLUSTER_REQUEST_SCHEMA }),
    ApiBadRequestResponse({ description: 'A field is missing or invalid (problem+json naming it)' }),
  )
  async create(
    @Body() body: unknown,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ClusterDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const parsed = parseClusterRequest(body);
    if (!parsed.ok) throw new ValidationProblem(parsed.errors);
    const row = await this.definitions.create(parsed.request, { correlationId, idempotencyKey: key });
    return this.resource.created(reply, row.id, row);
  }

  @ListRoute(CLUSTERS, 'List clusters by name')
  async list(@Query() query: PageQueryDto): Promise<ClusterPageDto> {
    return this.resource.list(query);
  }

  @GetRoute(CLUSTERS, 'Get a cluster')
  async get(@Param('id') id: string): Promise<ClusterDto> {
    return this.resource.get(id);
  }

  @DeleteRoute(
    CLUSTERS,
    'Delete a cluster and its credentials (never `default`, nor one in use)',
    ReadsFrom('clusters', 'jobs'), // the jobs that use it, submitted just before, included
    ApiForbiddenResponse({ description: 'The default cluster cannot be deleted' }),
    ApiConflictResponse({ description: 'Groups or jobs use the cluster' }),
  )
  async remove(@Param('id') id: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.definitions.remove(await this.resource.require(id), correlationId);
  }
}
