import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { GroupsQuery } from '@spindle/read-models';
import { ValidationProblem, RequiresScope } from '@spindle/platform';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { ReadsFrom } from '../consistency/consistent-read';
import { cursorAfter, pageOf } from '../pagination.dto';
import { GroupDefinitions } from './group-definitions.service';
import { parseGroupRequest, parseScale } from './group-request';
import {
  GROUP_REQUEST_SCHEMA,
  GroupDto,
  GroupPageDto,
  GroupPageQueryDto,
  RescaleGroupDto,
} from './group.dto';

const ID_PARAM = { name: 'id', description: 'Group id' };

@ApiTags('groups')
@RequiresScope('read')
@Controller('api/v1/groups')
export class GroupsController {
  constructor(
    private readonly definitions: GroupDefinitions,
    private readonly groups: GroupsQuery,
  ) {}

  @RequiresScope('write')
  @Post()
  @ApiOperation({ summary: 'Create a group of warm interactive workers on a local cluster' })
  @ApiBody({ schema: GROUP_REQUEST_SCHEMA })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid (problem+json naming it)' })
  @ApiNotFoundResponse({ description: 'No such cluster, or no such artifact' })
  @ApiConflictResponse({ description: 'The name is taken, or the cluster cannot run work yet' })
  @ApiIdempotencyKey()
  async create(
    @Body() body: unknown,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GroupDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const parsed = parseGroupRequest(body);
    if (!parsed.ok) throw new ValidationProblem(parsed.errors);
    await this.definitions.checkReferences(parsed.request, { retryable: key !== undefined });
    const row = await this.definitions.create(parsed.request, undefined, key);
    void reply.status(HttpStatus.CREATED).header('location', `/api/v1/groups/${encodeURIComponent(row.id)}`);
    return GroupDto.from(row);
  }

  @Get()
  @ReadsFrom('groups')
  @ApiOperation({ summary: 'List groups by name, optionally of one state, kind or cluster' })
  @ApiOkResponse({ type: GroupPageDto })
  async list(@Query() query: GroupPageQueryDto): Promise<GroupPageDto> {
    const page = await this.groups.list(query.limit, cursorAfter(query.cursor), (q) => {
      if (query.state) q.andWhere('v.state = :state', { state: query.state });
      if (query.kind) q.andWhere('v.kind = :kind', { kind: query.kind });
      if (query.clusterName) q.andWhere('v.cluster_name = :cluster', { cluster: query.clusterName });
    });
    return pageOf(page, (row) => GroupDto.from(row));
  }

  @Get(':id')
  @ReadsFrom('groups')
  @ApiOperation({ summary: 'Get a group' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: GroupDto })
  @ApiNotFoundResponse({ description: 'No such group' })
  async get(@Param('id') id: string): Promise<GroupDto> {
    return GroupDto.from(await this.definitions.findById(id));
  }

  @RequiresScope('write')
  @Post(':id/rescale')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Set the number of workers (absolute); workers start or stop gracefully' })
  @ApiParam(ID_PARAM)
  @ApiBody({ type: RescaleGroupDto })
  @ApiOkResponse({ type: GroupDto })
  @ApiNotFoundResponse({ description: 'No such group' })
  @ApiConflictResponse({ description: 'The group is stopped (ARCHIVED)' })
  async rescale(@Param('id') id: string, @Body() body: unknown): Promise<GroupDto> {
    const scale = parseScale((body as { scale?: unknown } | null)?.scale);
    if (typeof scale !== 'number') throw new ValidationProblem([scale]);
    const group = await this.definitions.findById(id);
    return GroupDto.from(await this.definitions.rescale(group, scale));
  }

  @RequiresScope('write')
  @Post(':id/stop')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Stop the group: its workers stop, it is ARCHIVED and stays readable' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: GroupDto })
  @ApiNotFoundResponse({ description: 'No such group' })
  async stop(@Param('id') id: string): Promise<GroupDto> {
    return GroupDto.from(await this.definitions.stop(await this.definitions.findById(id)));
  }

  @RequiresScope('write')
  @Delete(':id')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a group (its workers stop) and the programs uploaded with it' })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such group' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.definitions.remove(await this.definitions.findById(id));
  }
}
