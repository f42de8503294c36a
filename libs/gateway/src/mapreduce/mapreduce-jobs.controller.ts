import { Body, Controller, Delete, Get, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { mapReduceTaskLogId } from '@spindle/contracts';
import { MapReduceJobsQuery } from '@spindle/read-models';
import { BODY_LIMITS, BodyLimit, CorrelationId, RequiresScope, ValidationProblem } from '@spindle/platform';
import { ReadsFrom } from '../consistency/consistent-read';
import { LogCollectorClient } from '../logs/log-collector.client';
import { cursorAfter, PageQueryDto, pageOf } from '../pagination.dto';
import { notFound } from '../read-back';
import {
  MAPREDUCE_REQUEST_SCHEMA,
  MapReduceJobDto,
  MapReduceJobPageDto,
  MapReduceTaskDto,
} from './mapreduce-job.dto';
import { MapReduceJobs } from './mapreduce-jobs.service';
import { parseMapReduceRequest } from './mapreduce-request';

const ID_PARAM = { name: 'id', description: 'MapReduce job id (j-<uuid>)' };

@ApiTags('mapreduce')
@RequiresScope('read')
@Controller('api/v1/mapreduce/jobs')
export class MapReduceJobsController {
  constructor(
    private readonly jobs: MapReduceJobs,
    private readonly query: MapReduceJobsQuery,
    private readonly logs: LogCollectorClient,
  ) {}

  @RequiresScope('submit')
  @BodyLimit(BODY_LIMITS.large)
  @Post()
  @ApiOperation({
    summary: 'Run a MapReduce job over S3-compatible storage with uploaded mapper and reducer programs',
  })
  @ApiBody({ schema: MAPREDUCE_REQUEST_SCHEMA })
  @ApiCreatedResponse({ type: MapReduceJobDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid (problem+json naming it)' })
  @ApiNotFoundResponse({ description: 'No such mapper or reducer artifact' })
  async submit(
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MapReduceJobDto> {
    const parsed = parseMapReduceRequest(body);
    if (!parsed.ok) throw new ValidationProblem(parsed.errors);
    const row = await this.jobs.submit(parsed.request, correlationId);
    void reply.status(HttpStatus.CREATED).header('location', `/api/v1/mapreduce/jobs/${row.name}`);
    return MapReduceJobDto.from(row);
  }

  @Get()
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: 'List MapReduce jobs by id' })
  @ApiOkResponse({ type: MapReduceJobPageDto })
  async list(@Query() query: PageQueryDto): Promise<MapReduceJobPageDto> {
    return pageOf(await this.query.list(query.limit, cursorAfter(query.cursor)), (row) =>
      MapReduceJobDto.from(row),
    );
  }

  @Get(':id')
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: 'A MapReduce job' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: MapReduceJobDto })
  @ApiNotFoundResponse({ description: 'No such job' })
  async get(@Param('id') id: string): Promise<MapReduceJobDto> {
    return MapReduceJobDto.from(await this.jobs.get(id));
  }

  @Get(':id/tasks')
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: "A MapReduce job's map tasks, then its reduce tasks" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: [MapReduceTaskDto] })
  @ApiNotFoundResponse({ description: 'No such job' })
  async tasks(@Param('id') id: string): Promise<MapReduceTaskDto[]> {
    return (await this.jobs.get(id)).tasks.map((t) => MapReduceTaskDto.from(t));
  }

  @Get(':id/tasks/:taskId/log')
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: "The output (stderr, and stdout that is not output) of a task's latest attempt" })
  @ApiParam(ID_PARAM)
  @ApiParam({ name: 'taskId', description: '<job>-m-<i> or <job>-r-<i>' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'The text, one line per line the program wrote',
    content: { 'text/plain': { schema: { type: 'string' }, example: 'reading split 0 of 6\n' } },
  })
  @ApiNotFoundResponse({ description: 'No such job or task, or the task has not started' })
  async log(
    @Param('id') id: string,
    @Param('taskId') taskId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const job = await this.jobs.get(id);
    const task = job.tasks.find((t) => t.id === taskId);
    if (!task || task.attempts === 0) throw notFound(`task ${taskId}`, 'taskId');
    void reply.type('text/plain; charset=utf-8');
    return this.logs.text(mapReduceTaskLogId(taskId, job.run, task.attempts));
  }

  @RequiresScope('submit')
  @Delete(':id')
  @ReadsFrom('mapReduceJobs')
  @ApiOperation({ summary: 'Stop a MapReduce job: every running task is killed, it ends stopped' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: MapReduceJobDto })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({ description: 'The job already ended' })
  async stop(@Param('id') id: string, @CorrelationId() correlationId: string): Promise<MapReduceJobDto> {
    await this.jobs.get(id);
    return MapReduceJobDto.from(await this.jobs.stop(id, correlationId));
  }
}
