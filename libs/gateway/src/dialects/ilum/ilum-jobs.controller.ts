import { CorrelationId, RequiresScope } from '@spindle/platform';
import { Delete, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FINISHED_JOB_STATES, JOB_ID_PATTERN } from '@spindle/contracts';
import { CLUSTER_JOB_SORT_FIELDS, ClusterJobsQuery, JobsQuery } from '@spindle/read-models';
import type { ClusterJobRow, JobView } from '@spindle/read-models';
import { ReadsFrom } from '../../consistency/consistent-read';
import { JobSubmission } from '../../jobs/job-submission.service';
import { LogCollectorClient } from '../../logs/log-collector.client';
import { MAX_LOG_LINES } from '../../logs/logs.controller';
import { DialectController } from '../dialect-controller';
import {
  ApiIlumNotFound,
  ApiIlumConflict,
  IlumErrorsFilter,
  ilumInvalid,
  ilumNotFound,
} from './ilum-errors.filter';
import { IlumJobSubmission } from './ilum-job-submission';
import {
  ILUM_JOB_STATES,
  ILUM_JOB_TYPES,
  clusterJobInfo,
  coreStatesOf,
  ilumJobLog,
  workerPhasesOf,
} from './ilum-job-format';
import type { IlumJobInfo, IlumJobResourceLog } from './ilum-job-format';
import {
  IlumJobIdDto,
  IlumJobInfoDto,
  IlumJobPageDto,
  IlumJobResourceLogDto,
  JOB_CREATION_SCHEMA,
} from './ilum-job.dto';
import { ILUM_PREFIX } from './ilum-prefix';
import { offsetPageOf, single, springPage, springPageRequest, wholeNumber } from './spring-page';
import type { SpringPageQuery } from './spring-page';
import { IlumJobUpdates } from './ilum-job-updates';
import { listParam, pairsParam } from './ilum-query';
import { ApiIlumUpdates, IlumUpdateStreams } from './ilum-updates';
import type { IlumUpdatesQuery } from './ilum-updates';

const JOB_ID = { name: 'jobId', description: 'The unique identifier of a job' };
const STOP_WAIT_MS = 10_000; // how long a stop waits for the job's process to end
const MAX_LOG_FROM = 999_999_999; // line offsets the collector's integers hold

type JobListQuery = SpringPageQuery & Record<string, string | string[] | undefined>;
const KINDS = [
  ['SINGLE', 'single'],
  ['INTERACTIVE', 'interactive'],
] as const;

// Ilum's single jobs on the core's jobs: submit (multipart), pages with Ilum's filters, one job,
// stop, delete, its log, and the stream of changes. Only jobs sent to a cluster are Ilum's.
@DialectController('ilum: jobs', IlumErrorsFilter, `${ILUM_PREFIX}/job`)
export class IlumJobsController {
  constructor(
    private readonly ilumSubmission: IlumJobSubmission,
    private readonly submission: JobSubmission,
    private readonly jobs: JobsQuery,
    private readonly clusterJobs: ClusterJobsQuery,
    private readonly logs: LogCollectorClient,
    private readonly updates: IlumJobUpdates,
    private readonly streams: IlumUpdateStreams,
  ) {}

  @RequiresScope('submit')
  @Post('submit')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Submits a single job' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: JOB_CREATION_SCHEMA })
  @ApiOkResponse({ type: IlumJobIdDto })
  @ApiIlumNotFound('No such cluster')
  @ApiIlumConflict('Validation failed, or the cluster has no executor')
  async submit(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IlumJobIdDto> {
    const job = await this.ilumSubmission.submit(request, reply);
    return { jobId: job.id };
  }

  @Get()
  @ReadsFrom('jobs')
  @ApiOperation({ summary: 'Returns a page of existing jobs' })
  @ApiQuery({ name: 'jobTypes', required: false, isArray: true, enum: ILUM_JOB_TYPES })
  @ApiQuery({ name: 'jobStates', required: false, isArray: true, enum: ILUM_JOB_STATES })
  @ApiQuery({ name: 'clusterNames', required: false, isArray: true, type: String })
  @ApiQuery({ name: 'tags', required: false, description: 'key1=value1;key2=value2, all must match' })
  @ApiQuery({ name: 'search', required: false, description: 'Part of the job name or id' })
  @ApiQuery({ name: 'page', required: false, schema: { type: 'integer', default: 0 } })
  @ApiQuery({ name: 'size', required: false, schema: { type: 'integer', default: 10 } })
  @ApiQuery({
    name: 'sort',
    required: false,
    isArray: true,
    description: `field,asc|desc; field one of ${CLUSTER_JOB_SORT_FIELDS.join(', ')}; then newest first`,
    example: ['submitTime,desc'],
  })
  @ApiOkResponse({ type: IlumJobPageDto })
  @ApiIlumConflict('A malformed filter, page, size or sort')
  async list(@Query() query: JobListQuery): Promise<IlumJobPageDto> {
    const request = springPageRequest(query, CLUSTER_JOB_SORT_FIELDS);
    const types = listParam(query, 'jobTypes', ILUM_JOB_TYPES);
    const states = listParam(query, 'jobStates', ILUM_JOB_STATES);
    const clusters = listParam(query, 'clusterNames');
    const tags = pairsParam('tags', single('tags', query['tags']));
    // SINGLE: the jobs sent to a cluster; INTERACTIVE: its groups' workers; SHELL: none here.
    const kinds =
      types === undefined ? undefined : KINDS.filter(([type]) => types.includes(type)).map(([, k]) => k);
    const { rows, total } = await this.clusterJobs.page(
      {
        ...(kinds === undefined ? {} : { kinds }),
        ...(states === undefined ? {} : { states: coreStatesOf(states), phases: workerPhasesOf(states) }),
        ...(clusters === undefined ? {} : { clusters }),
        tags,
        ...(request.search === undefined ? {} : { search: request.search }),
      },
      offsetPageOf(request),
    );
    return springPage(request, rows, total, clusterJobInfo);
  }

  // Before `:jobId`, which would take it otherwise.
  @Get('updates')
  @ApiIlumUpdates('job changes', 'The whole jobInfo as of each change of a job sent to a cluster.', [
    'jobIds',
    'groupIds',
    'clusterNames',
    'tags',
  ])
  async stream(
    @Query() query: IlumUpdatesQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.streams.serve(query, lastEventId, request, reply, (filter) => this.updates.renderer(filter));
  }

  @Get(':jobId')
  @ReadsFrom('jobs')
  @ApiOperation({ summary: 'Returns a job found by its id' })
  @ApiParam(JOB_ID)
  @ApiOkResponse({ type: IlumJobInfoDto })
  @ApiIlumNotFound('No such job')
  async get(@Param('jobId') id: string): Promise<IlumJobInfo> {
    return clusterJobInfo(await this.findAny(id));
  }

  @RequiresScope('submit')
  @Post(':jobId/stop')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Stops a job (it ends FINISHED, as in Ilum 1.3.0)' })
  @ApiParam(JOB_ID)
  @ApiOkResponse({ description: 'Operation succeeded (empty body)' })
  @ApiIlumNotFound('No such job')
  @ApiIlumConflict("A group's interactive job (stop or rescale its group)")
  async stop(@Param('jobId') id: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.stopAndWait(await this.find(id, 'stopped'), correlationId);
  }

  @RequiresScope('submit')
  @Delete(':jobId')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      "Deletes a job: stops it if it runs, removes its program, and it is no longer listed (its events stay in Spindle's history)",
  })
  @ApiParam(JOB_ID)
  @ApiOkResponse({ description: 'Operation succeeded (empty body)' })
  @ApiIlumNotFound('No such job')
  @ApiIlumConflict("A group's interactive job (delete its group), or a job that did not stop in time")
  async remove(@Param('jobId') id: string, @CorrelationId() correlationId: string): Promise<void> {
    const job = await this.stopAndWait(await this.find(id, 'deleted'), correlationId);
    if (!FINISHED_JOB_STATES.includes(job.state))
      throw ilumInvalid(`job ${id} is still stopping: delete it once it has stopped`);
    await this.ilumSubmission.removeProgram(job.function, correlationId);
    await this.submission.delete(job.id, correlationId);
  }

  @Get(':jobId/logs')
  @ReadsFrom('jobs')
  @ApiOperation({ summary: 'Returns logs for all job resources (a single job has one: its process)' })
  @ApiParam(JOB_ID)
  @ApiQuery({
    name: 'logSize',
    required: false,
    schema: { type: 'integer', default: 100, minimum: 1 },
    description: `Max number of lines; more than ${MAX_LOG_LINES} reads ${MAX_LOG_LINES}`,
  })
  @ApiQuery({
    name: 'from',
    required: false,
    schema: { type: 'integer', default: 0, minimum: 0 },
    description: 'Offset from the start of the log: 0 is the first line',
  })
  @ApiOkResponse({ type: [IlumJobResourceLogDto] })
  @ApiIlumNotFound('No such job')
  @ApiIlumConflict('A malformed logSize or from')
  async log(
    @Param('jobId') id: string,
    @Query('logSize') logSizeText: string | string[] | undefined,
    @Query('from') fromText: string | string[] | undefined,
  ): Promise<IlumJobResourceLog[]> {
    const logSize = Math.min(
      wholeNumber('logSize', single('logSize', logSizeText), 100, 1, 999_999_999),
      MAX_LOG_LINES,
    );
    const from = wholeNumber('from', single('from', fromText), 0, 0, MAX_LOG_FROM);
    const job = await this.find(id, 'read here');
    await this.logs.awaitComplete(job);
    // The collector counts lines from 1.
    const page = await this.logs.lines(id, from + 1, logSize);
    return [
      ilumJobLog(
        job,
        from,
        page.items.map((l) => l.text),
      ),
    ];
  }

  // A single job or a group's worker (Ilum's interactive job); a deleted job is no more.
  private async findAny(id: string): Promise<ClusterJobRow> {
    if (!JOB_ID_PATTERN.test(id)) throw ilumNotFound(`Job ${id} not found`);
    const job = await this.jobs.findRecent(id);
    if (job && job.cluster !== null && job.deletedAt === null) return { kind: 'single', job };
    const worker = job ? null : await this.clusterJobs.worker(id);
    if (!worker) throw ilumNotFound(`Job ${id} not found`);
    return worker;
  }

  // A single job, for what only single jobs take: a group's worker lives and ends with its group
  // (and its requests have logs of their own), so it is refused naming what to do instead.
  private async find(id: string, done: string): Promise<JobView> {
    const row = await this.findAny(id);
    if (row.kind === 'single') return row.job;
    const { group } = row;
    throw ilumInvalid(
      done === 'read here'
        ? `job ${id} is an interactive job of group ${group.name}: its requests' logs are read by jobInstanceId at /api/v1/jobs/{jobInstanceId}/logs`
        : `job ${id} is an interactive job of group ${group.name}: it is ${done} with its group (POST /group/${group.id}/stop, POST /group/${group.id}/rescale/{scale} or DELETE /group/${group.id})`,
    );
  }

  // Cancels a job that has not ended and waits (a while) for it to end; an ended job is left as is.
  private async stopAndWait(job: JobView, correlationId: string): Promise<JobView> {
    if (FINISHED_JOB_STATES.includes(job.state)) return job;
    if (job.state !== 'cancelling') await this.submission.cancel(job.id, correlationId);
    const deadline = Date.now() + STOP_WAIT_MS;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const now = (await this.jobs.findById(job.id)) ?? job;
      if (FINISHED_JOB_STATES.includes(now.state) || Date.now() > deadline) return now;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
