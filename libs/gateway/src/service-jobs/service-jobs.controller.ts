import { RequiresScope } from '@spindle/platform';
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
import { ServiceJobsQuery } from '@spindle/read-models';
import type { ServiceJobView } from '@spindle/read-models';
import { ApiIfMatch, sendVersion, versionOf } from '../commands/entity-version';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { ReadsFrom } from '../consistency/consistent-read';
import { PageQueryDto, cursorAfter, pageOf } from '../pagination.dto';
import { CreateServiceJobDto, ScaleTaskGroupDto, ServiceJobDto, ServiceJobPageDto } from './service-job.dto';
import { ServiceJobsService } from './service-jobs.service';

const NAME_PARAM = { name: 'name', description: 'Service job name', example: 'web' };

// Service jobs: task groups of long-running instances of functions, kept at their counts.
@ApiTags('service-jobs')
@RequiresScope('read')
@Controller('api/v1/service-jobs')
export class ServiceJobsController {
  constructor(
    private readonly serviceJobs: ServiceJobsService,
    private readonly query: ServiceJobsQuery,
  ) {}

  @RequiresScope('write')
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
    const row = await this.serviceJobs.create(
      body.name,
      body.taskGroups,
      checkIdempotencyKey(idempotencyKey),
    );
    void reply
      .status(HttpStatus.CREATED)
      .header('location', `/api/v1/service-jobs/${encodeURIComponent(body.name)}`);
    return answer(reply, row);
  }

  @Get()
  @ReadsFrom('serviceJobs')
  @ApiOperation({ summary: 'List service jobs by name' })
  @ApiOkResponse({ type: ServiceJobPageDto })
  async list(@Query() query: PageQueryDto): Promise<ServiceJobPageDto> {
    const page = await this.query.list(query.limit, cursorAfter(query.cursor));
    return pageOf(page, (row) => ServiceJobDto.from(row));
  }

  @Get(':name')
  @ReadsFrom('serviceJobs')
  @ApiOperation({ summary: 'Get a service job: its groups, counts, summaries and live instances' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job' })
  async get(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return answer(reply, await this.serviceJobs.get(name));
  }

  @RequiresScope('submit')
  @Post(':name/start')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Start: every group's count becomes its countInit" })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job' })
  @ApiIfMatch()
  async start(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return answer(reply, await this.serviceJobs.start(name, versionOf(ifMatch)));
  }

  @RequiresScope('submit')
  @Post(':name/stop')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Stop: every instance is stopped, every count becomes 0' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: ServiceJobDto })
  @ApiNotFoundResponse({ description: 'No such service job' })
  @ApiIfMatch()
  async stop(
    @Param('name') name: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return answer(reply, await this.serviceJobs.stop(name, versionOf(ifMatch)));
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
  async scale(
    @Param('name') name: string,
    @Param('group') group: string,
    @Body() body: ScaleTaskGroupDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceJobDto> {
    return answer(
      reply,
      await this.serviceJobs.scale(name, group, 'absolute', body.count, versionOf(ifMatch)),
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
    await this.serviceJobs.remove(name, versionOf(ifMatch));
  }
}

function answer(reply: FastifyReply, row: ServiceJobView): ServiceJobDto {
  sendVersion(reply, row.streamPosition);
  return ServiceJobDto.from(row);
}
