import { CorrelationId, RequiresScope } from '@spindle/platform';
import {
  Body,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
  applyDecorators,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommandPatterns } from '@spindle/contracts';
import { ServiceJobsQuery } from '@spindle/read-models';
import type { ServiceJobView } from '@spindle/read-models';
import { ReadsFrom } from '../../consistency/consistent-read';
import { ServiceJobsChanges } from '../../service-jobs/service-jobs-changes';
import { NamedResources } from '../../resources/named-resource';
import type { NamedResource } from '../../resources/named-resource';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidNotFound } from './genvid-errors.filter';
import { genvidJob, waitIndexOf, waitMsOf } from './genvid-jobs-format';
import type { GenvidJob } from './genvid-jobs-format';
import { UpdateCountsDto } from './genvid-jobs.dto';

// GET /v1/jobs has no paging in Genvid: this many jobs at most, by name.
const JOBS_LISTED_MAX = 1_000;
const AS_LISTED = 'The job as GET /v1/jobs shows it';

// POST /v1/jobs/<action>/:id: start or stop a job.
function JobActionRoute(action: string, summary: string): MethodDecorator {
  return applyDecorators(
    RequiresScope('submit'),
    Post(`${action}/:id`),
    HttpCode(HttpStatus.OK),
    ApiOperation({ summary }),
    ApiParam({ name: 'id', description: 'The job id' }),
    ApiOkResponse({ description: AS_LISTED }),
    ApiNotFoundResponse({ description: '`{"error": ...}`: no such job' }),
  );
}

// Genvid's jobs are Spindle's service jobs (job id = name): the same commands and read model as
// the native /api/v1/service-jobs. GET /v1/jobs blocks on `waitIndex` like a Nomad blocking query.
@DialectController('genvid: jobs', GenvidErrorsFilter, `${GENVID_PREFIX}/v1/jobs`)
export class GenvidJobsController {
  // The native service jobs resource, shown as Genvid shows a job.
  private readonly resource: NamedResource<ServiceJobView, GenvidJob>;

  constructor(
    resources: NamedResources,
    private readonly query: ServiceJobsQuery,
    private readonly changes: ServiceJobsChanges,
  ) {
    this.resource = resources.of({
      kind: 'job',
      field: 'id',
      path: '/api/v1/service-jobs',
      query,
      toDto: genvidJob,
    });
  }

  @Get()
  @ReadsFrom('serviceJobs')
  @ApiOperation({
    summary:
      'Get the list of jobs in the cluster. With `waitIndex`, blocks until the list changes past it or the wait ends',
  })
  @ApiHeader({
    name: 'waitIndex',
    required: false,
    description: 'Used for long polling: the waitIndex of an earlier answer',
  })
  @ApiQuery({
    name: 'wait',
    required: false,
    description: 'How long to block (default and most 5m), e.g. 10s',
  })
  @ApiOkResponse({ description: 'The jobs; response header `waitIndex` for the next long poll' })
  async list(
    @Headers('waitindex') waitIndexHeader: string | undefined,
    @Query('wait') wait: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenvidJob[]> {
    const waitIndex = waitIndexOf(waitIndexHeader);
    const waitMs = waitMsOf(wait);
    let view = await this.query.allWithIndex(JOBS_LISTED_MAX);
    if (waitIndex !== null && view.index <= waitIndex) {
      // The client that gives up ends the wait too.
      const left = new AbortController();
      request.raw.once('close', () => left.abort());
      await this.changes.waitPast(waitIndex, waitMs, left.signal);
      view = await this.query.allWithIndex(JOBS_LISTED_MAX);
    }
    void reply.header('waitIndex', String(view.index));
    return view.rows.map(genvidJob);
  }

  @JobActionRoute('start', "Start a job: every task group's count becomes its countInit")
  async start(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenvidJob> {
    return this.change(CommandPatterns.startServiceJob, id, {}, correlationId, reply);
  }

  @JobActionRoute('stop', 'Stop a job: every instance is stopped')
  async stop(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenvidJob> {
    return this.change(CommandPatterns.stopServiceJob, id, {}, correlationId, reply);
  }

  @RequiresScope('submit')
  @Post('updatecounts')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Increment or decrement a task group count (clamped to [0, countMax]; 0 stops the group)',
  })
  @ApiOkResponse({ description: AS_LISTED })
  @ApiBadRequestResponse({ description: '`{"error": ...}` naming the field' })
  @ApiNotFoundResponse({ description: '`{"error": ...}`: no such job or task group' })
  async updateCounts(
    @Body() body: UpdateCountsDto,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GenvidJob> {
    const change = { taskGroup: body.taskGroup, mode: 'delta', count: body.count };
    return this.change(CommandPatterns.scaleServiceJob, body.jobID, change, correlationId, reply);
  }

  // A command on an existing job (Genvid's own words for one it does not have, before any command
  // is sent), answering the job once applied.
  private async change(
    pattern: string,
    id: string,
    change: object,
    correlationId: string,
    reply: FastifyReply,
  ): Promise<GenvidJob> {
    if (!(await this.query.findByName(id))) throw genvidNotFound(`job ${id} not found`);
    return this.resource.update(pattern, id, change, correlationId, undefined, reply);
  }
}
