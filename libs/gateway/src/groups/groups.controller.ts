import { Body, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiNotFoundResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { GroupsQuery } from '@spindle/read-models';
import type { GroupView } from '@spindle/read-models';
import { CorrelationId, ValidationProblem } from '@spindle/platform';
import { IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { ReadsFrom } from '../consistency/consistent-read';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import {
  ActionRoute,
  CreateRoute,
  DeleteRoute,
  GetRoute,
  ListRoute,
  ResourceController,
} from '../resources/resource-routes';
import type { ResourceRoutes } from '../resources/resource-routes';
import { GroupDefinitions, groupsById } from './group-definitions.service';
import { parseGroupRequest, parseScale } from './group-request';
import {
  GROUP_REQUEST_SCHEMA,
  GroupDto,
  GroupPageDto,
  GroupPageQueryDto,
  RescaleGroupDto,
} from './group.dto';

const GROUPS: ResourceRoutes = {
  tag: 'groups',
  path: 'api/v1/groups',
  noun: 'group',
  key: { name: 'id', description: 'Group id' },
  readModel: 'groups',
  dto: GroupDto,
  pageDto: GroupPageDto,
};

@ResourceController(GROUPS)
export class GroupsController {
  private readonly resource: NamedResource<GroupView, GroupDto>;

  constructor(
    private readonly definitions: GroupDefinitions,
    private readonly groups: GroupsQuery,
    resources: NamedResources,
  ) {
    this.resource = groupsById(resources, groups, (row) => GroupDto.from(row));
  }

  @CreateRoute(
    GROUPS,
    {
      summary: 'Create a group of warm interactive workers on a local cluster',
      conflict: 'The name is taken, or the cluster cannot run work yet',
    },
    ApiBody({ schema: GROUP_REQUEST_SCHEMA }),
    ApiBadRequestResponse({ description: 'A field is missing or invalid (problem+json naming it)' }),
    ApiNotFoundResponse({ description: 'No such cluster, or no such artifact' }),
  )
  async create(
    @Body() body: unknown,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GroupDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const parsed = parseGroupRequest(body);
    if (!parsed.ok) throw new ValidationProblem(parsed.errors);
    await this.definitions.checkReferences(parsed.request, { retryable: key !== undefined });
    const row = await this.definitions.create(parsed.request, { correlationId, idempotencyKey: key });
    return this.resource.created(reply, row.id, row);
  }

  @ListRoute(GROUPS, 'List groups by name, optionally of one state, kind or cluster')
  async list(@Query() query: GroupPageQueryDto): Promise<GroupPageDto> {
    return this.resource.list(query, (limit, after) =>
      this.groups.list(limit, after, (q) => {
        if (query.state) q.andWhere('v.state = :state', { state: query.state });
        if (query.kind) q.andWhere('v.kind = :kind', { kind: query.kind });
        if (query.clusterName) q.andWhere('v.cluster_name = :cluster', { cluster: query.clusterName });
      }),
    );
  }

  @GetRoute(GROUPS, 'Get a group')
  async get(@Param('id') id: string): Promise<GroupDto> {
    return this.resource.get(id);
  }

  @ActionRoute(
    GROUPS,
    'write',
    'rescale',
    'Set the number of workers (absolute); workers start or stop gracefully',
    ReadsFrom('groups'),
    ApiBody({ type: RescaleGroupDto }),
    ApiConflictResponse({ description: 'The group is stopped (ARCHIVED)' }),
  )
  async rescale(
    @Param('id') id: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<GroupDto> {
    const scale = parseScale((body as { scale?: unknown } | null)?.scale);
    if (typeof scale !== 'number') throw new ValidationProblem([scale]);
    const group = await this.resource.require(id);
    return GroupDto.from(await this.definitions.rescale(group, scale, correlationId));
  }

  @ActionRoute(
    GROUPS,
    'write',
    'stop',
    'Stop the group: its workers stop, it is ARCHIVED and stays readable',
    ReadsFrom('groups'),
  )
  async stop(@Param('id') id: string, @CorrelationId() correlationId: string): Promise<GroupDto> {
    return GroupDto.from(await this.definitions.stop(await this.resource.require(id), correlationId));
  }

  @DeleteRoute(
    GROUPS,
    'Delete a group (its workers stop) and the programs uploaded with it',
    ReadsFrom('groups'),
  )
  async remove(@Param('id') id: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.definitions.remove(await this.resource.require(id), correlationId);
  }
}
