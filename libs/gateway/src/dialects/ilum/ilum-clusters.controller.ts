import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../../commands/idempotency-key';
import { Body, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ClustersQuery, CLUSTER_SORT_FIELDS } from '@spindle/read-models';
import { ClusterDefinitions } from '../../clusters/cluster-definitions.service';
import { clusterInfoOf } from '../../clusters/cluster-info';
import { parseClusterRequest } from '../../clusters/cluster-request';
import { CLUSTER_REQUEST_SCHEMA } from '../../clusters/cluster.dto';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import {
  ApiIlumNotFound,
  ApiIlumConflict,
  IlumErrorsFilter,
  ilumInvalid,
  ilumNotFound,
} from './ilum-errors.filter';
import {
  IlumClusterIdDto,
  IlumClusterInfoDto,
  IlumClusterNamesDto,
  IlumClusterPageDto,
} from './ilum-cluster.dto';
import { ILUM_PREFIX } from './ilum-prefix';
import { ApiSpringPage, offsetPageOf, springPage, springPageRequest } from './spring-page';
import type { SpringPageQuery } from './spring-page';
import { CorrelationId, RequiresScope } from '@spindle/platform';

const CLUSTER_ID = {
  name: 'clusterId',
  description: 'The unique identifier of a cluster',
  example: 'default',
};

@DialectController('ilum: clusters', IlumErrorsFilter, `${ILUM_PREFIX}/cluster`)
export class IlumClustersController {
  constructor(
    private readonly definitions: ClusterDefinitions,
    private readonly clusters: ClustersQuery,
  ) {}

  @RequiresScope('write')
  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Creates a cluster definition' })
  @ApiBody({ schema: CLUSTER_REQUEST_SCHEMA })
  @ApiOkResponse({ type: IlumClusterIdDto })
  @ApiIlumConflict('Validation failed, or the name is taken')
  @ApiIdempotencyKey()
  async create(
    @Body() body: unknown,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
  ): Promise<IlumClusterIdDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const parsed = parseClusterRequest(body);
    if (!parsed.ok) throw ilumInvalid(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    const row = await this.definitions.create(parsed.request, { correlationId, idempotencyKey: key });
    return { clusterId: row.id };
  }

  @Get()
  @ReadsFrom('clusters')
  @ApiOperation({ summary: 'Returns a page of existing clusters' })
  @ApiSpringPage(CLUSTER_SORT_FIELDS, 'name, description', 'name,asc')
  @ApiOkResponse({ type: IlumClusterPageDto })
  @ApiIlumConflict('A malformed page, size or sort')
  async list(@Query() query: SpringPageQuery): Promise<IlumClusterPageDto> {
    const request = springPageRequest(query, CLUSTER_SORT_FIELDS);
    const { rows, total } = await this.clusters.page(offsetPageOf(request));
    return springPage(request, rows, total, (row) => clusterInfoOf(row) as unknown as IlumClusterInfoDto);
  }

  @Get('names')
  @ReadsFrom('clusters')
  @ApiOperation({ summary: 'Returns the names of all clusters' })
  @ApiOkResponse({ type: IlumClusterNamesDto })
  async names(): Promise<IlumClusterNamesDto> {
    return { names: await this.clusters.names() };
  }

  @Get(':clusterId')
  @ReadsFrom('clusters')
  @ApiOperation({ summary: 'Returns a cluster found by its id' })
  @ApiParam(CLUSTER_ID)
  @ApiOkResponse({ type: IlumClusterInfoDto })
  @ApiIlumNotFound('No such cluster')
  async get(@Param('clusterId') id: string): Promise<IlumClusterInfoDto> {
    const row = await this.clusters.findById(id);
    if (!row) throw ilumNotFound(`Cluster ${id} not found`);
    return clusterInfoOf(row) as unknown as IlumClusterInfoDto;
  }

  @RequiresScope('write')
  @Delete(':clusterId')
  @ReadsFrom('clusters', 'jobs') // the jobs that use it, submitted just before, included
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Deletes a cluster (never `default`, nor one that groups or jobs use)' })
  @ApiParam(CLUSTER_ID)
  @ApiOkResponse({ description: 'Operation succeeded (empty body)' })
  @ApiIlumNotFound('No such cluster')
  @ApiIlumConflict('The default cluster, or one in use')
  async remove(@Param('clusterId') id: string, @CorrelationId() correlationId: string): Promise<void> {
    const row = await this.clusters.findById(id);
    if (!row) throw ilumNotFound(`Cluster ${id} not found`);
    await this.definitions.remove(row, correlationId);
  }
}
