import { Body, HttpCode, Delete, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import { FunctionsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';
import { JobSubmission } from '../../jobs/job-submission.service';
import { LogCollectorClient } from '../../logs/log-collector.client';
import { jobDetails, mistLogLine, parseMistTimeout } from './mist-format';
import { MistContexts } from './mist-contexts.service';
import { MistJobList } from './mist-job-list.service';
import { MistErrorsFilter, mistBadRequest, mistNotFound } from './mist-errors.filter';
import { MIST_MAX_LIMIT, MIST_MAX_OFFSET, MIST_PREFIX, bool } from './mist-query';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import { BODY_LIMITS, BodyLimit, CorrelationId, RequiresScope } from '@spindle/platform';

const FORCE_WAIT_MS = 120_000; // Mist's own request timeout for force=true
const CANCEL_WAIT_MS = 10_000; // Mist waits this long for a running job to be cancelled
const LOG_PAGE = 25_000;

const LIST_QUERIES = [
  ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', default: 25, minimum: 0, maximum: MIST_MAX_LIMIT },
  }),
  ApiQuery({
    name: 'offset',
    required: false,
    schema: { type: 'integer', default: 0, minimum: 0, maximum: MIST_MAX_OFFSET },
  }),
  ApiQuery({ name: 'status', required: false, isArray: true, type: String }),
  ApiQuery({ name: 'paginate', required: false, schema: { type: 'boolean', default: false } }),
];
function ListQueries(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of LIST_QUERIES) d(target, key, descriptor);
  };
}

// Mist's jobs: start one on a function (async, or force=true to wait for the result), list them
// with offset pages, read one, cancel one, read its log in Mist's line format.
@DialectController('mist: jobs', MistErrorsFilter, MIST_PREFIX)
export class MistJobsController {
  constructor(
    private readonly submission: JobSubmission,
    private readonly functions: FunctionsQuery,
    private readonly logs: LogCollectorClient,
    private readonly lists: MistJobList,
    private readonly mistContexts: MistContexts,
  ) {}

  @HttpCode(200)
  @RequiresScope('submit')
  @BodyLimit(BODY_LIMITS.large)
  @Post('functions/:id/jobs')
  @ApiOperation({ summary: 'Start a job; the body is the function arguments' })
  @ApiBody({ schema: { type: 'object', additionalProperties: true, example: { numbers: [1, 2, 3] } } })
  @ApiQuery({ name: 'context', required: false })
  @ApiQuery({ name: 'externalId', required: false })
  @ApiQuery({ name: 'force', required: false, schema: { type: 'boolean' } })
  @ApiQuery({ name: 'startTimeout', required: false, example: '10s' })
  @ApiQuery({ name: 'performTimeout', required: false, example: '10minute' })
  async start(
    @Param('id') fn: string,
    @Body() body: unknown,
    @Query() query: Record<string, unknown>,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw mistBadRequest('the body must be a JSON object of the function arguments');
    if (!(await this.functions.findByName(fn))) throw mistNotFound(`Function ${fn} not found`);
    const context = optionalString(query['context'], 'context');
    if (context !== undefined) await this.mistContexts.ensure(context, correlationId);
    const job = await this.submission.submit({
      function: fn,
      args: body as Record<string, unknown>,
      context,
      externalId: optionalString(query['externalId'], 'externalId'),
      startTimeoutMs: timeout(query['startTimeout'], 'startTimeout'),
      performTimeoutMs: timeout(query['performTimeout'], 'performTimeout'),
      correlationId,
      source: 'http',
    });
    if (!bool(query['force'], 'force')) return { id: job.id };
    const done = await this.waitForEnd(job.id, FORCE_WAIT_MS);
    if (done.state === 'succeeded') return { success: true, payload: done.result?.value ?? null, errors: [] };
    return {
      success: false,
      payload: {},
      errors: [
        done.error ??
          (FINISHED_JOB_STATES.includes(done.state) ? done.state : 'still running after 2 minutes'),
      ],
    };
  }

  @Get('functions/:id/jobs')
  @ReadsFrom('functions', 'jobs')
  @ApiOperation({ summary: 'Jobs of a function, newest first' })
  @ListQueries()
  async ofFunction(@Param('id') fn: string, @Query() query: Record<string, unknown>): Promise<unknown> {
    if (!(await this.functions.findByName(fn))) throw mistNotFound(`Function ${fn} not found`);
    return this.lists.list({ function: fn }, query);
  }

  @Get('jobs')
  @ReadsFrom('jobs')
  @ApiOperation({ summary: 'All jobs, newest first' })
  @ListQueries()
  all(@Query() query: Record<string, unknown>): Promise<unknown> {
    return this.lists.list({}, query);
  }

  @Get('jobs/:id')
  @ReadsFrom('jobs')
  @ApiOperation({ summary: 'One job (JobDetails)' })
  async get(@Param('id') id: string): Promise<Record<string, unknown>> {
    return jobDetails(await this.find(id));
  }

  @RequiresScope('submit')
  @Delete('jobs/:id')
  @ApiOperation({ summary: 'Cancel a job; a finished one is answered unchanged' })
  async cancel(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const job = await this.find(id);
    if (FINISHED_JOB_STATES.includes(job.state)) return jobDetails(job);
    await this.submission.cancel(id, correlationId);
    return jobDetails(await this.waitForEnd(id, CANCEL_WAIT_MS));
  }

  @Get('jobs/:id/logs')
  @ReadsFrom('jobs')
  @ApiOperation({ summary: "The job's log in Mist's line format; honours Range: bytes=N-" })
  async log(
    @Param('id') id: string,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.find(id);
    const parts: string[] = [];
    for (let from = 1; ;) {
      const page = await this.logs.lines(id, from, LOG_PAGE);
      for (const l of page.items) parts.push(mistLogLine(l));
      if (page.items.length < LOG_PAGE) break;
      from = page.next;
    }
    const text = Buffer.from(parts.join(''), 'utf8');
    const start = rangeStart(range);
    void reply.header('content-type', 'text/plain; charset=utf-8').header('accept-ranges', 'bytes');
    if (start === undefined) {
      void reply.send(text);
      return;
    }
    if (start >= text.length && text.length > 0) {
      void reply.status(416).header('content-range', `bytes */${text.length}`).send('');
      return;
    }
    void reply
      .status(206)
      .header('content-range', `bytes ${start}-${Math.max(start, text.length - 1)}/${text.length}`)
      .send(text.subarray(start));
  }

  private async find(id: string): Promise<JobView> {
    try {
      return await this.submission.find(id);
    } catch {
      throw mistNotFound(`Job ${id} not found`);
    }
  }

  private async waitForEnd(id: string, timeoutMs: number): Promise<JobView> {
    const job = await this.submission.waitForEnd(id, timeoutMs);
    if (!job) throw mistNotFound(`Job ${id} not found`);
    return job;
  }
}

function optionalString(raw: unknown, name: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0) throw mistBadRequest(`${name} must be a single value`);
  return raw;
}

function timeout(raw: unknown, name: string): number | undefined {
  const text = optionalString(raw, name);
  if (text === undefined) return undefined;
  const parsed = parseMistTimeout(name, text);
  if ('error' in parsed) throw mistBadRequest(parsed.error);
  return parsed.ms ?? undefined;
}

function rangeStart(range: string | undefined): number | undefined {
  const match = range ? /^bytes=(\d+)-$/.exec(range.trim()) : null;
  return match ? Number(match[1]) : undefined;
}
