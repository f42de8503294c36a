import { Get, Param, Query, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { JOB_ID_PATTERN } from '@spindle/contracts';
import { JobsQuery } from '@spindle/read-models';
import { ReadsFrom } from '../../consistency/consistent-read';
import { LogCollectorClient } from '../../logs/log-collector.client';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidBadRequest, genvidNotFound } from './genvid-errors.filter';

// One answer carries at most this much of a log, as the native byte reads do.
const FS_LOG_MAX_BYTES = 16 * 1024 * 1024;

// Nomad's `fs/logs` under Genvid's path: an allocation's stdout or stderr by byte offset. An
// allocation is the job that runs the instance (its id is the job's), so this is that job's log
// as the log collector holds it, one stream of it.
@DialectController('genvid: logs', GenvidErrorsFilter, `${GENVID_PREFIX}/v1/log/fs`)
export class GenvidLogFsController {
  constructor(
    private readonly jobs: JobsQuery,
    private readonly logs: LogCollectorClient,
  ) {}

  @Get(':alloc/:task/:fs')
  @ReadsFrom('jobs')
  @ApiOperation({
    summary: "An allocation's stdout or stderr, in bytes from the start or the end (plain text)",
  })
  @ApiParam({ name: 'alloc', description: 'The allocation id (from GET /api/v1/service-jobs/{name})' })
  @ApiParam({ name: 'task', description: 'The task: an allocation runs one, named after its task group' })
  @ApiParam({ name: 'fs', enum: ['stdout', 'stderr'] })
  @ApiQuery({
    name: 'origin',
    required: false,
    enum: ['start', 'end'],
    description: 'Where offset counts from (start)',
  })
  @ApiQuery({ name: 'offset', required: false, description: 'Bytes from the origin (0)' })
  @ApiOkResponse({ description: 'The bytes, `text/plain`; headers x-log-offset and x-log-total-bytes' })
  @ApiNotFoundResponse({ description: '`{"error": ...}`: no such allocation' })
  async read(
    @Param('alloc') alloc: string,
    @Param('fs') fs: string,
    @Query('origin') origin: string | undefined,
    @Query('offset') offset: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (fs !== 'stdout' && fs !== 'stderr') throw genvidBadRequest('fs must be stdout or stderr');
    if (origin !== undefined && origin !== 'start' && origin !== 'end')
      throw genvidBadRequest('origin must be start or end');
    if (offset !== undefined && !/^\d{1,15}$/.test(offset))
      throw genvidBadRequest('offset must be a non-negative integer number of bytes');
    const job = JOB_ID_PATTERN.test(alloc) ? await this.jobs.findRecent(alloc) : null;
    if (!job) throw genvidNotFound(`allocation ${alloc} not found`);
    const slice = await this.logs.bytes(alloc, Number(offset ?? 0), origin ?? 'start', FS_LOG_MAX_BYTES, fs);
    void reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('x-log-offset', String(slice.offset))
      .header('x-log-total-bytes', String(slice.totalBytes))
      .send(slice.text);
  }
}
