import { BODY_LIMITS, BodyLimit, RequiresScope } from '@spindle/platform';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
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
import { CommandPatterns } from '@spindle/contracts';
import { ServiceJobsQuery } from '@spindle/read-models';
import type { ServiceJobView } from '@spindle/read-models';
import { ApiIfMatch } from '../commands/entity-version';
import { ApiIdempotencyKey, IdempotencyKeyHeader } from '../commands/idempotency-key';
import { ReadsFrom } from '../consistency/consistent-read';
import { PageQueryDto, cursorAfter } from '../pagination.dto';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import { CreateServiceJobDto, ScaleTaskGroupDto, ServiceJobDto, ServiceJobPageDto } from './service-job.dto';
import { ServiceJobDefinitions } from './service-job-definitions';

const NAME_PARAM = { name: 'name', description: 'Service job name', example: 'web' };

// Service jobs: task groups of long-running instances of functions, kept at their counts.
@ApiTags('service-jobs')
@RequiresScope('read')
@Controller('api/v1/service-jobs')
export class ServiceJobsController {
  private readonly resource: NamedResource<ServiceJobView, ServiceJobDto>;

  constructor(
    resources: NamedResources,
    private readonly definitions: ServiceJobDefinitions,
    private readonly query: ServiceJobsQuery,
  ) {
    this.resource = resources.of({
      kind: 'service job',
      field: 'name',
      path: '/api/v1/service-jobs',
      query,
      toDto: (row) => ServiceJobDto.from(row),
    });
  }

  @RequiresScope('write')
  @BodyLimit(BODY_LIMITS.large)
  @Post()
  @ApiOperation({
    summary: 'Define a service job (not started: start it to run countInit instances per group)',
  })
  @ApiCreatedResponse({ type: ServiceJobDto })
  @ApiConflictResponse({ description: 'A service job with this name exists' })
  @ApiIdempotencyKey()
  async create(
    @Body() body: CreateServiceJobDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    const taskGroups = await this.definitions.resolve(body.taskGroups);
    return this.resource.create(
      CommandPatterns.createServiceJob,
      body.name,
      { name: body.name, taskGroups },
      idempotencyKey,
      reply,
    );
  }

  @Get()
  @ReadsFrom('serviceJobs')
  @ApiOperation({ summary: 'List service jobs by name' })
  @ApiOkResponse({ type: ServiceJobPageDto })
  list(@Query() query: PageQueryDto): Promise<ServiceJobPageDto> {
    return this.resource.list(this.query.list(query.limit, cursorAfter(query.cursor)));
  }

  @Get(':name')
  @ReadsFrom('serviceJobs')
  @ApiOperation({ summary: 'Get a service job: its groups, counts, summaries and live instances' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job' })
  get(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<ServiceJobDto> {
    return this.resource.get(name, reply);
  }

  @RequiresScope('submit')
  @Post(':name/start')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Start: every group's count becomes its countInit" })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job' })
  @ApiIfMatch()
  start(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return this.resource.update(CommandPatterns.startServiceJob, name, {}, ifMatch, reply);
  }

  @RequiresScope('submit')
  @Post(':name/stop')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Stop: every instance is stopped, every count becomes 0' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job' })
  @ApiIfMatch()
  stop(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return this.resource.update(CommandPatterns.stopServiceJob, name, {}, ifMatch, reply);
  }

  @RequiresScope('submit')
  @Put(':name/task-groups/:group/count')
  @ApiOperation({ summary: "Set a started job's group count (absolute, 0 to countMax)" })
  @ApiParam(NAME_PARAM)
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
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return this.resource.update(
      CommandPatterns.scaleServiceJob,
      name,
      { taskGroup: group, mode: 'absolute', count: body.count },
      ifMatch,
      reply,
    );
  }

  @RequiresScope('write')
  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a service job; its instances are stopped' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such service job' })
  @ApiIfMatch()
  async remove(@Param('name') name: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    await this.resource.remove(CommandPatterns.deleteServiceJob, name, ifMatch);
  }
}
