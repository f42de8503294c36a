import { BODY_LIMITS, BodyLimit, CorrelationId, RequiresScope } from '@spindle/platform';
import { Body, Headers, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns } from '@spindle/contracts';
import { ServiceJobsQuery } from '@spindle/read-models';
import type { ServiceJobView } from '@spindle/read-models';
import { ApiIfMatch } from '../commands/entity-version';
import { IdempotencyKeyHeader } from '../commands/idempotency-key';
import { PageQueryDto } from '../pagination.dto';
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
import { CreateServiceJobDto, ScaleTaskGroupDto, ServiceJobDto, ServiceJobPageDto } from './service-job.dto';
import { ServiceJobDefinitions } from './service-job-definitions';

const SERVICE_JOBS: ResourceRoutes = {
  tag: 'service-jobs',
  path: 'api/v1/service-jobs',
  noun: 'service job',
  key: { name: 'name', description: 'Service job name', example: 'web' },
  readModel: 'serviceJobs',
  dto: ServiceJobDto,
  pageDto: ServiceJobPageDto,
};

// Service jobs: task groups of long-running instances of functions, kept at their counts.
@ResourceController(SERVICE_JOBS)
export class ServiceJobsController {
  private readonly resource: NamedResource<ServiceJobView, ServiceJobDto>;

  constructor(
    resources: NamedResources,
    private readonly definitions: ServiceJobDefinitions,
    query: ServiceJobsQuery,
  ) {
    this.resource = resources.of({
      kind: 'service job',
      field: 'name',
      path: `/${SERVICE_JOBS.path}`,
      query,
      toDto: (row) => ServiceJobDto.from(row),
    });
  }

  @CreateRoute(SERVICE_JOBS, {
    summary: 'Define a service job (not started: start it to run countInit instances per group)',
  })
  @BodyLimit(BODY_LIMITS.large)
  async create(
    @Body() body: CreateServiceJobDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    const taskGroups = await this.definitions.resolve(body.taskGroups);
    return this.resource.create(
      CommandPatterns.createServiceJob,
      body.name,
      { name: body.name, taskGroups },
      correlationId,
      idempotencyKey,
      reply,
    );
  }

  @ListRoute(SERVICE_JOBS, 'List service jobs by name')
  list(@Query() query: PageQueryDto): Promise<ServiceJobPageDto> {
    return this.resource.list(query);
  }

  @GetRoute(SERVICE_JOBS, 'Get a service job: its groups, counts, summaries and live instances')
  get(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<ServiceJobDto> {
    return this.resource.get(name, reply);
  }

  @ActionRoute(
    SERVICE_JOBS,
    'submit',
    'start',
    "Start: every group's count becomes its countInit",
    ApiIfMatch(),
  )
  start(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return this.resource.update(CommandPatterns.startServiceJob, name, {}, correlationId, ifMatch, reply);
  }

  @ActionRoute(
    SERVICE_JOBS,
    'submit',
    'stop',
    'Stop: every instance is stopped, every count becomes 0',
    ApiIfMatch(),
  )
  stop(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return this.resource.update(CommandPatterns.stopServiceJob, name, {}, correlationId, ifMatch, reply);
  }

  @RequiresScope('submit')
  @Put(':name/task-groups/:group/count')
  @ApiOperation({ summary: "Set a started job's group count (absolute, 0 to countMax)" })
  @ApiParam(SERVICE_JOBS.key)
  @ApiParam({ name: 'group', description: 'Task group name', example: 'front' })
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job or task group' })
  @ApiConflictResponse({ description: 'The job is not started' })
  @ApiIfMatch()
  scale(
    @Param('name') name: string,
    @Param('group') group: string,
    @Body() body: ScaleTaskGroupDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return this.resource.update(
      CommandPatterns.scaleServiceJob,
      name,
      { taskGroup: group, mode: 'absolute', count: body.count },
      correlationId,
      ifMatch,
      reply,
    );
  }

  @DeleteRoute(SERVICE_JOBS, 'Delete a service job; its instances are stopped', ApiIfMatch())
  async remove(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @CorrelationId() correlationId: string,
  ): Promise<void> {
    await this.resource.remove(CommandPatterns.deleteServiceJob, name, correlationId, ifMatch);
  }
}
