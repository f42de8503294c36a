import { Body, Delete, Get, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiNotAcceptableResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAPREDUCE_SECRET_KEYS } from '@spindle/contracts';
import type { MapReduceJobView } from '@spindle/read-models';
import { MapReduceJobsQuery } from '@spindle/read-models';
import { BODY_LIMITS, BodyLimit, CorrelationId, ProblemException, RequiresScope } from '@spindle/platform';
import { ReadsFrom } from '../../consistency/consistent-read';
import { MapReduceJobs, newMapReduceJobId } from '../../mapreduce/mapreduce-jobs.service';
import { DEFAULT_SPLIT_SIZE_BYTES, DEFAULT_TASK_TIMEOUT_MS } from '../../mapreduce/mapreduce-request';
import { SecretsClient, callerOf } from '../../secrets/secrets.client';
import { DialectController } from '../dialect-controller';
import {
  APOLLO_PREFIX,
  apolloArtifactOf,
  apolloCreatedJob,
  apolloJobAlreadyFinished,
  apolloJobOf,
  apolloJobStopped,
  apolloNoSuchJob,
  apolloOutputLocation,
  apolloTaskOf,
  parseApolloJobRequest,
} from './apollo-format';
import type { ApolloJob, ApolloJobStatus, ApolloTask } from './apollo-format';
import { ApolloErrorsFilter, apolloEmptyNotFound, apolloError } from './apollo-errors.filter';

const JOB_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'j-0193a5b2-7c1e-7f00-8000-1234567890ab' },
    nReducers: { type: 'integer' },
    outputLocation: {
      type: 'object',
      properties: { location: { type: 'string' }, useSSL: { type: 'boolean' } },
    },
    inputData: {
      type: 'object',
      properties: { id: { type: 'string' }, path: { type: 'string' }, type: { type: 'string' } },
    },
    startTime: { type: 'integer', description: 'Unix seconds' },
    endTime: { type: 'integer', description: 'Unix seconds; absent while the job runs' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'stopped'] },
  },
};

// The secret holding a job's storage credentials: Apollo sends them in the request, Spindle keeps
// them in the secrets service (envelope-encrypted) and the job names them by id only.
export function apolloCredentialsSecretId(jobId: string, which: 'input' | 'output'): string {
  return `mapreduce-${jobId}-${which}`;
}

function statusOf(row: MapReduceJobView): ApolloJobStatus {
  return row.state === 'stopping' ? 'running' : row.state;
}

function apolloJobOfRow(row: MapReduceJobView): ApolloJob {
  // outputPath is stored as the location Apollo writes to (the bucket `reducers` at the endpoint).
  return apolloJobOf({
    id: row.name,
    nReducers: row.nReducers,
    inputPath: row.inputPath,
    outputPath: row.outputPath.replace(/\/reducers\/$/, ''),
    useSSL: row.outputPath.startsWith('https:'),
    submittedAt: row.submittedAt,
    finishedAt: row.finishedAt,
    status: statusOf(row),
  });
}

// Apollo's jobs are Spindle's MapReduce jobs with the `apollo` program protocol.
@DialectController('apollo: jobs', ApolloErrorsFilter, `${APOLLO_PREFIX}/jobs`)
export class ApolloJobsController {
  constructor(
    private readonly jobs: MapReduceJobs,
    private readonly query: MapReduceJobsQuery,
    private readonly secrets: SecretsClient,
  ) {}

  @RequiresScope('submit')
  @BodyLimit(BODY_LIMITS.large)
  @Post()
  @ApiOperation({
    summary: 'Run a MapReduce job with uploaded mapper and reducer executables (Apollo protocol)',
    description:
      "201 with the job's fields at the top level and also `job`, `mProgram`, `rProgram`. Errors are text/plain.",
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['nReducers', 'inputPath', 'inputType', 'outputPath', 'mapperName', 'reducerName'],
      properties: {
        nReducers: { type: 'integer' },
        inputPath: { type: 'string' },
        inputType: { type: 'string', enum: ['file/txt'] },
        outputPath: { type: 'string' },
        useSSL: { type: 'boolean' },
        mapperName: { type: 'string' },
        reducerName: { type: 'string' },
        inputStorageCredentials: {
          type: 'object',
          properties: { username: { type: 'string' }, password: { type: 'string' } },
        },
        outputStorageCredentials: {
          type: 'object',
          properties: { username: { type: 'string' }, password: { type: 'string' } },
        },
        splitSize: { type: 'integer', description: 'bytes per map task' },
      },
    },
  })
  @ApiCreatedResponse({ schema: JOB_SCHEMA })
  @ApiBadRequestResponse({ description: 'An unknown field, another input type, a bad value (text/plain)' })
  @ApiNotFoundResponse({ description: 'No such mapper or reducer (text/plain)' })
  async submit(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<object> {
    const parsed = parseApolloJobRequest(body);
    if (!parsed.ok) throw apolloError(HttpStatus.BAD_REQUEST, parsed.error);
    const r = parsed.value;
    const outputPath = apolloOutputLocation(r.outputPath);
    this.jobs.checkStorage({ inputPath: r.inputPath, outputPath });
    const [mapper, reducer] = await Promise.all([
      this.jobs.program(r.mapperName, 'mapperName').catch(() => null),
      this.jobs.program(r.reducerName, 'reducerName').catch(() => null),
    ]);
    if (!mapper) throw apolloError(HttpStatus.NOT_FOUND, `${r.mapperName} artifact metadata can't be found!`);
    if (!reducer)
      throw apolloError(HttpStatus.NOT_FOUND, `${r.reducerName} artifact metadata can't be found!`);
    const id = newMapReduceJobId();
    const caller = callerOf(request);
    const secretOf = async (which: 'input' | 'output', given: { username: string; password: string }) => {
      const secretId = apolloCredentialsSecretId(id, which);
      await this.secrets.write(
        secretId,
        {
          [MAPREDUCE_SECRET_KEYS.accessKeyId]: given.username,
          [MAPREDUCE_SECRET_KEYS.secretAccessKey]: given.password,
        },
        caller,
      );
      return secretId;
    };
    const row = await this.jobs.submit(
      {
        protocol: 'apollo',
        inputPath: r.inputPath,
        outputPath,
        nReducers: r.nReducers,
        mapper: mapper.name,
        reducer: r.nReducers === 0 ? null : reducer.name,
        splitSize: r.splitSize ?? DEFAULT_SPLIT_SIZE_BYTES,
        taskTimeoutMs: DEFAULT_TASK_TIMEOUT_MS,
        inputSecret: await secretOf('input', r.inputStorageCredentials),
        outputSecret: await secretOf('output', r.outputStorageCredentials),
      },
      caller.correlationId,
      id,
    );
    void reply.status(HttpStatus.CREATED);
    return apolloCreatedJob(apolloJobOfRow(row), apolloArtifactOf(mapper), apolloArtifactOf(reducer));
  }

  @Get()
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: 'Every job' })
  @ApiOkResponse({ schema: { type: 'array', items: JOB_SCHEMA } })
  async list(): Promise<ApolloJob[]> {
    const all: ApolloJob[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.query.list(500, after);
      all.push(...page.items.map(apolloJobOfRow));
      if (!page.nextCursor) return all;
      after = page.nextCursor;
    }
  }

  @Get(':id')
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: 'A job; 404 with an empty body when unknown' })
  @ApiOkResponse({ schema: JOB_SCHEMA })
  @ApiNotFoundResponse({ description: 'No such job (empty body)' })
  async get(@Param('id') id: string): Promise<ApolloJob> {
    const row = await this.jobs.find(id);
    if (!row) throw apolloEmptyNotFound();
    return apolloJobOfRow(row);
  }

  @Get(':id/tasks')
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: "A job's tasks: mappers, then reducers" })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'object' } } })
  @ApiNotFoundResponse({ description: 'No such job (empty body)' })
  async tasks(@Param('id') id: string): Promise<ApolloTask[]> {
    const row = await this.jobs.find(id);
    if (!row) throw apolloEmptyNotFound();
    const programOf = (p: { artifact: string; sha256: string } | null) =>
      p ? { name: p.artifact, type: 'executable' as const, size: 0, hash: p.sha256 } : undefined;
    return row.tasks.map((t) =>
      apolloTaskOf({
        jobId: row.name,
        kind: t.kind === 'mapper' ? 'map' : 'reduce',
        index: t.index,
        status: t.state,
        program: (t.kind === 'mapper' ? programOf(row.mapper) : programOf(row.reducer))!,
        split: t.split ? { path: t.split.key, start: t.split.start, end: t.split.end } : undefined,
        worker: row.hostId,
        startedAt: t.startedAt,
        finishedAt: t.finishedAt,
      }),
    );
  }

  @RequiresScope('submit')
  @Delete(':id')
  @ApiOperation({ summary: 'Stop a job: every running task is killed' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: '`Job <id> was successfully stopped`' })
  @ApiNotAcceptableResponse({ description: '`Job <id> already finished its workload!`' })
  @ApiNotFoundResponse({ description: '`No job with id <id> was found!`' })
  async stop(
    @Param('id') id: string,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const row = await this.jobs.find(id);
    if (!row) throw apolloError(HttpStatus.NOT_FOUND, apolloNoSuchJob(id));
    try {
      await this.jobs.stop(id, correlationId);
    } catch (e) {
      if (e instanceof ProblemException && e.getStatus() === 409)
        throw apolloError(HttpStatus.NOT_ACCEPTABLE, apolloJobAlreadyFinished(id));
      throw e;
    }
    void reply.type('text/plain; charset=utf-8');
    return apolloJobStopped(id);
  }
}
