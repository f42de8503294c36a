import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ClustersQuery } from '@spindle/read-models';
import { RequiresScope, ValidationProblem } from '@spindle/platform';
import { ReadsFrom } from '../consistency/consistent-read';
import { answerCreated } from '../resources/named-resource';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { ClusterDefinitions } from './cluster-definitions.service';
import { parseClusterRequest } from './cluster-request';
import { CLUSTER_REQUEST_SCHEMA, ClusterDto, ClusterPageDto } from './cluster.dto';

const ID_PARAM = { name: 'id', description: 'Cluster id', example: 'default' };

@ApiTags('clusters')
@RequiresScope('read')
@Controller('api/v1/clusters')
export class ClustersController {
  constructor(
    private readonly definitions: ClusterDefinitions,
    private readonly clusters: ClustersQuery,
  ) {}

  @RequiresScope('write')
  @Post()
  @ApiOperation({
    summary: 'Define a cluster (local, k8s or yarn); its credentials go to the secrets service',
  })
  @ApiBody({ schema: CLUSTER_REQUEST_SCHEMA })
  @ApiCreatedResponse({ type: ClusterDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid (problem+json naming it)' })
  @ApiConflictResponse({ description: 'A cluster with this name or id exists' })
  @ApiIdempotencyKey()
  async create(
    @Body() body: unknown,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ClusterDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const parsed = parseClusterRequest(body);
    if (!parsed.ok) throw new ValidationProblem(parsed.errors);
    const row = await this.definitions.create(parsed.request, key);
    answerCreated(reply, '/api/v1/clusters', row.id);
    return ClusterDto.from(row);
  }

  @Get()
  @ReadsFrom('clusters')
  @ApiOperation({ summary: 'List clusters by name' })
  @ApiOkResponse({ type: ClusterPageDto })
  async list(@Query() query: PageQueryDto): Promise<ClusterPageDto> {
    const page = await this.clusters.list(query.limit, cursorAfter(query.cursor));
    return pageOf(page, (row) => ClusterDto.from(row));
  }

  @Get(':id')
  @ReadsFrom('clusters')
  @ApiOperation({ summary: 'Get a cluster' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ClusterDto })
  @ApiNotFoundResponse({ description: 'No such cluster' })
  async get(@Param('id') id: string): Promise<ClusterDto> {
    return ClusterDto.from(await this.definitions.findById(id));
  }

  @RequiresScope('write')
  @Delete(':id')
  @ReadsFrom('clusters', 'jobs') // the jobs that use it, submitted just before, included
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a cluster and its credentials (never `default`, nor one in use)' })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such cluster' })
  @ApiForbiddenResponse({ description: 'The default cluster cannot be deleted' })
  @ApiConflictResponse({ description: 'Groups or jobs use the cluster' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.definitions.remove(await this.definitions.findById(id));
  }
}
