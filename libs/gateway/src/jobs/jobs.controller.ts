import { Body, Controller, Get, HttpStatus, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns, JOB_ID_PATTERN, newEventId } from '@spindle/contracts';
import { SPINDLE_CONFIG, ValidationProblem, parseDuration } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactsQuery, ContextsQuery, FunctionsQuery, JobsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import type { Accepted } from '../commands/command-sender';
import { ApiIdempotencyKey, IdempotencyKeyHeader, checkIdempotencyKey } from '../commands/idempotency-key';
import { pageOf, uuidCursorAfter } from '../pagination.dto';
import { notFound, readBack } from '../read-back';
import { JobDto, JobListQueryDto, JobPageDto, SubmitJobDto } from './job.dto';

export async function findJob(jobs: JobsQuery, id: string): Promise<JobView> {
  const row = JOB_ID_PATTERN.test(id) ? await jobs.findById(id) : null;
  if (!row) throw notFound(`job ${id}`);
  return row;
}

export const JOB_ID_PARAM = {
  name: 'id',
  description: 'Job id',
  example: '0193a5b2-7c1e-7f00-8000-1234567890ab',
};

// Jobs: submit one to a function, find them, cancel one. Logs and event streams have their own
// controllers.
@ApiTags('jobs')
@Controller('api/v1')
export class JobsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly jobs: JobsQuery,
    private readonly functions: FunctionsQuery,
    private readonly contexts: ContextsQuery,
    private readonly artifacts: ArtifactsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  @Post('functions/:name/jobs')
  @ApiOperation({
    summary: 'Submit a job: run the function with these arguments',
    description:
      'Answers 202 once the job is durably queued, with the job as it is then (usually `queued`). ' +
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
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    const key = checkIdempotencyKey(idempotencyKey);
    const fn = await this.functions.findByName(name);
    if (!fn) throw notFound(`function ${name}`);
    const context = body.context ?? fn.defaultContext;
    if (!(await this.contexts.findByName(context))) {
      throw new ValidationProblem([
        { field: 'context', rule: 'exists', message: `context ${context} does not exist` },
      ]);
    }
    const artifact = await this.artifacts.findByName(fn.artifact);
    if (!artifact) {
      throw new ValidationProblem([
        {
          field: 'name',
          rule: 'runnable',
          message: `function ${name} cannot run: its artifact ${fn.artifact} no longer exists`,
        },
      ]);
    }
    const accepted = await this.commands.send(
      CommandPatterns.submitJob,
      {
        id: newEventId(),
        function: name,
        ...(body.context === undefined ? {} : { context: body.context }),
        args: body.args ?? {},
        artifact: artifact.name,
        artifactSha256: artifact.sha256,
        ...(body.externalId === undefined ? {} : { externalId: body.externalId }),
        ...(body.startTimeout === undefined
          ? {}
          : { startTimeoutMs: parseDuration(body.startTimeout) ?? undefined }),
        ...(body.performTimeout === undefined
          ? {}
          : { performTimeoutMs: parseDuration(body.performTimeout) ?? undefined }),
      },
      key,
    );
    // With a reused Idempotency-Key the answer names the first job, not the id drawn here.
    const id = accepted.streamId.replace(/^job-/, '');
    void reply.status(HttpStatus.ACCEPTED).header('location', `/api/v1/jobs/${id}`);
    return this.readBack(id, accepted);
  }

  @Get('jobs')
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

  @Get('jobs/:id')
  @ApiOperation({ summary: 'Get a job: state, result, error, timings' })
  @ApiParam(JOB_ID_PARAM)
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job' })
  async get(@Param('id') id: string): Promise<JobDto> {
    return JobDto.from(await this.findJob(id));
  }

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
  async cancel(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<JobDto> {
    await this.findJob(id);
    const accepted = await this.commands.send(CommandPatterns.cancelJob, { id });
    void reply.status(HttpStatus.ACCEPTED);
    return this.readBack(id, accepted);
  }

  private findJob(id: string): Promise<JobView> {
    return findJob(this.jobs, id);
  }

  private readBack(id: string, accepted: Accepted): Promise<JobDto> {
    return readBack(
      `job ${id}`,
      this.jobs.waitForPosition(id, accepted.streamPosition, this.config.readYourWritesTimeoutMs),
      async () => {
        const row = await this.jobs.findById(id);
        return row && JobDto.from(row);
      },
    );
  }
}
