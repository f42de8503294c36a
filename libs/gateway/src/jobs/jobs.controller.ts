import { Body, Get, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { JOB_ID_PATTERN } from '@spindle/contracts';
import { BODY_LIMITS, BodyLimit, CorrelationId, RequiresScope, parseDuration } from '@spindle/platform';
import { JobsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { pageOf, uuidCursorAfter } from '../pagination.dto';
import { notFound } from '../read-back';
import { JobSubmission } from './job-submission.service';
import { JobDto, JobListQueryDto, JobPageDto, SubmitJobDto } from './job.dto';
import { ReadsFrom } from '../consistency/consistent-read';
import { GetRoute, ResourceController } from '../resources/resource-routes';
import type { ResourceRoutes } from '../resources/resource-routes';
import { toSecretRefs } from '../secrets/secret-ref.dto';

// A job just submitted may not be in the read model yet: `findRecent` waits for it.
export async function findJob(jobs: JobsQuery, id: string): Promise<JobView> {
  const row = JOB_ID_PATTERN.test(id) ? await jobs.findRecent(id) : null;
  if (!row) throw notFound(`job ${id}`);
  return row;
}

export const JOB_ID_PARAM = {
  name: 'id',
  description: 'Job id',
  example: '0193a5b2-7c1e-7f00-8000-1234567890ab',
};

const JOBS: ResourceRoutes = {
  tag: 'jobs',
  path: 'api/v1', // a job is submitted to its function: POST functions/:name/jobs
  noun: 'job',
  key: JOB_ID_PARAM,
  one: 'jobs/:id',
  readModel: 'jobs',
  dto: JobDto,
  pageDto: JobPageDto,
};

// Jobs: submit one to a function, find them, cancel one. Logs and event streams have their own
// controllers.
@ResourceController(JOBS)
export class JobsController {
  constructor(
    private readonly submission: JobSubmission,
    private readonly jobs: JobsQuery,
  ) {}

  @RequiresScope('submit')
  @BodyLimit(BODY_LIMITS.large)
  @Post('functions/:name/jobs')
  @ApiOperation({
    summary: 'Submit a job: run the function with these arguments',
    description:
      'Answers 202 once the job is durably queued, with the job as it is then: `queued`, or `starting` ' +
      'with its `workerId` when a warm shared worker of its context had room and took it at once. ' +
      'Follow it with GET /api/v1/jobs/{id}, its events or its logs.',
  })
  @ApiParam({ name: 'name', description: 'Function name', example: 'sum' })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiBadRequestResponse({ description: 'A field is invalid, or the context does not exist' })
  @ApiNotFoundResponse({ description: 'No such function' })
  @ApiIdempotencyKey()
  async submit(
    @Param('name') name: string,
    @Body() body: SubmitJobDto,
    @IdempotencyKeyHeader() idempotencyKey: string | undefined,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const job = await this.submission.submit({
      function: name,
      args: body.args ?? {},
      context: body.context,
      externalId: body.externalId,
      ...(body.secrets?.length ? { secrets: toSecretRefs(body.secrets) } : {}),
      startTimeoutMs: durationMs(body.startTimeout),
      performTimeoutMs: durationMs(body.performTimeout),
      idempotencyKey: key,
      correlationId,
      source: 'http',
    });
    void reply.status(HttpStatus.ACCEPTED).header('location', `/api/v1/jobs/${job.id}`);
    return JobDto.from(job);
  }

  @Get('jobs')
  @ReadsFrom('jobs')
  @ApiOperation({ summary: 'List jobs, newest first, with filters' })
  @ApiOkResponse({ type: JobPageDto })
  async list(@Query() query: JobListQueryDto): Promise<JobPageDto> {
    const after = uuidCursorAfter(query.cursor);
    const page = await this.jobs.list(
      {
        states: query.state,
        function: query.function,
        context: query.context,
        workerId: query.worker,
        externalId: query.externalId,
      },
      query.limit,
      after,
    );
    return pageOf(page, (row) => JobDto.from(row));
  }

  @GetRoute(JOBS, 'Get a job: state, result, error, timings')
  async get(@Param('id') id: string): Promise<JobDto> {
    return JobDto.from(await this.findJob(id));
  }

  @RequiresScope('submit')
  @Post('jobs/:id/cancel')
  @ApiOperation({
    summary: 'Cancel a job',
    description:
      'A queued job is cancelled at once; a starting or running one becomes `cancelling` until its process ' +
      'is killed. Cancelling again, or cancelling a finished job, changes nothing.',
  })
  @ApiParam(JOB_ID_PARAM)
  @ApiAcceptedResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job' })
  async cancel(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    const job = await this.submission.cancel(id, correlationId);
    void reply.status(HttpStatus.ACCEPTED);
    return JobDto.from(job);
  }

  private findJob(id: string): Promise<JobView> {
    return findJob(this.jobs, id);
  }
}

// "Inf" and no value both mean: no limit.
function durationMs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : (parseDuration(text) ?? undefined);
}
