import { BODY_LIMITS, BodyLimit, CorrelationId, RequiresScope } from '@spindle/platform';
import { Body, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ReadsFrom } from '../../consistency/consistent-read';
import { GroupDefinitions } from '../../groups/group-definitions.service';
import { DialectController } from '../dialect-controller';
import { ApiIlumNotFound, ApiIlumConflict, IlumErrorsFilter } from './ilum-errors.filter';
import { groupJobInstanceOf, parseGroupJobRequest } from './ilum-group-job-format';
import { IlumGroupJobUpdates } from './ilum-group-job-updates';
import { GROUP_INSTANCE_SORT_FIELDS, IlumGroupJobs } from './ilum-group-jobs.service';
import { ILUM_GROUP_ID } from './ilum-group.dto';
import { ILUM_PREFIX } from './ilum-prefix';
import { ApiSpringPage, springPage, springPageRequest } from './spring-page';
import { ApiIlumUpdates, IlumUpdateStreams } from './ilum-updates';
import type { IlumUpdatesQuery } from './ilum-updates';
import type { SpringPage, SpringPageQuery } from './spring-page';

// A JOB group takes {type, jobClass, jobConfig}; a CODE group {type, code} and, to complete code,
// {type, code, cursor}.
const GROUP_JOB_CREATION = {
  schema: {
    type: 'object',
    required: ['type'],
    properties: {
      type: {
        type: 'string',
        default: 'interactive_job_execute',
        enum: ['interactive_job_execute', 'interactive_code_execute', 'interactive_code_complete'],
      },
      jobClass: { type: 'string', example: 'jobs.WordCount', description: 'module.Class of the group (JOB)' },
      jobConfig: { type: 'object', additionalProperties: true },
      code: { type: 'string', description: 'Code to run or complete (CODE)' },
      cursor: {
        type: 'integer',
        minimum: 0,
        description:
          'interactive_code_complete: where to complete, 0 to the code’s length; the result is a JSON array of candidates',
      },
    },
  },
};
const INSTANCE = {
  schema: {
    type: 'object',
    properties: {
      jobInstanceId: { type: 'string' },
      jobId: { type: 'string', description: 'The group worker that ran it' },
      groupId: { type: 'string' },
      startTime: { type: 'integer', nullable: true },
      endTime: { type: 'integer', nullable: true },
      jobClass: { type: 'string' },
      jobConfig: { type: 'object' },
      result: { type: 'string', nullable: true },
      error: {
        type: 'object',
        nullable: true,
        properties: { message: { type: 'string' }, stackTrace: { type: 'string' } },
      },
    },
  },
};

// Requests run on a group's warm workers (Ilum's interactive job instances).
@DialectController('ilum: groups', IlumErrorsFilter, `${ILUM_PREFIX}/group`)
export class IlumGroupJobsController {
  constructor(
    private readonly definitions: GroupDefinitions,
    private readonly groupJobs: IlumGroupJobs,
    private readonly updates: IlumGroupJobUpdates,
    private readonly streams: IlumUpdateStreams,
  ) {}

  // Ilum's path has no group id: the stream is of every group's instances, filtered.
  @Get('job/result/updates')
  @ApiIlumUpdates(
    'changes of requests on groups',
    'The whole groupJobInstanceInfo as of each change of a request (`result` or `error` once it has ' +
      'ended). `jobIds` match an instance id or the worker (jobId) that ran it; `groupNames`, ' +
      "`clusterNames` and `tags` are the group's.",
    ['jobIds', 'groupIds', 'clusterNames', 'groupNames', 'tags'],
  )
  async stream(
    @Query() query: IlumUpdatesQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.streams.serve(query, lastEventId, request, reply, (filter) => this.updates.renderer(filter));
  }

  @RequiresScope('submit') // a request runs a program, as a job submit does
  @BodyLimit(BODY_LIMITS.large)
  @Post(':groupId/job/execute')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Runs a request on one of the group’s workers and answers the finished instance' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiBody(GROUP_JOB_CREATION)
  @ApiOkResponse(INSTANCE)
  @ApiIlumNotFound('No such group')
  @ApiIlumConflict('A malformed request, a stopped group, an unknown file')
  async execute(
    @Param('groupId') id: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<Record<string, unknown>> {
    const group = await this.definitions.findById(id);
    const job = await this.groupJobs.execute(group, parseGroupJobRequest(body), correlationId);
    return groupJobInstanceOf(group.id, job);
  }

  @RequiresScope('submit')
  @BodyLimit(BODY_LIMITS.large)
  @Post(':groupId/job/submit')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Queues a request on the group and answers its instance id at once' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiBody(GROUP_JOB_CREATION)
  @ApiOkResponse({ schema: { type: 'object', properties: { jobInstanceId: { type: 'string' } } } })
  @ApiIlumNotFound('No such group')
  @ApiIlumConflict('A malformed request, a stopped group, an unknown file')
  async submit(
    @Param('groupId') id: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<{ jobInstanceId: string }> {
    const group = await this.definitions.findById(id);
    const job = await this.groupJobs.submit(group, parseGroupJobRequest(body), correlationId);
    return { jobInstanceId: job.id };
  }

  @Get(':groupId/job/result')
  @ReadsFrom('groups', 'jobs')
  @ApiOperation({ summary: 'Pages the group’s instances, newest first' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiSpringPage(GROUP_INSTANCE_SORT_FIELDS, 'part of an instance id or jobClass, any case', 'startTime,desc')
  @ApiOkResponse({ description: 'A Spring page of groupJobInstanceInfo' })
  @ApiIlumNotFound('No such group')
  async results(
    @Param('groupId') id: string,
    @Query() query: SpringPageQuery,
  ): Promise<SpringPage<Record<string, unknown>>> {
    const group = await this.definitions.findById(id);
    const request = springPageRequest(query, GROUP_INSTANCE_SORT_FIELDS);
    const { rows, total } = await this.groupJobs.page(group, request);
    return springPage(request, rows, total, (job) => groupJobInstanceOf(group.id, job));
  }
}
