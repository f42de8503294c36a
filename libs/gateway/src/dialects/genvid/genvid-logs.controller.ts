import { CorrelationId, RequiresScope } from '@spindle/platform';
import { Body, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import type { LogCatalogueEntry } from '@spindle/contracts';
import { ClusterConfigService } from '../../cluster-config/cluster-config.service';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import { GenvidAllocations } from './genvid-allocations';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidNotFound } from './genvid-errors.filter';

const LOG_ENTRY_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The log ID' },
    group: { type: 'string', description: 'The log group' },
    job: { type: 'string', description: 'The log job' },
    task: { type: 'string', description: 'The task' },
    fileName: { type: 'string', description: 'The file name' },
    logLevel: { type: 'boolean', description: 'If the process supports log level or not' },
  },
  required: ['id', 'group', 'job', 'task', 'fileName', 'logLevel'],
};

interface LogMeta {
  allocID: string;
  status: string;
  jobName: string;
  taskName: string;
  fileName: string;
  createTime: string;
  logLevel: string;
}

// The log catalogue: which logs the cluster's jobs write, event-sourced (stream log-catalogue).
@DialectController('genvid: logs', GenvidErrorsFilter, `${GENVID_PREFIX}/v1/log`)
export class GenvidLogsController {
  constructor(
    private readonly config: ClusterConfigService,
    private readonly allocations: GenvidAllocations,
  ) {}

  @Get('logs')
  @ReadsFrom('clusterConfig')
  @ApiOperation({ summary: 'Get the list of logs' })
  @ApiOkResponse({ schema: { type: 'array', items: LOG_ENTRY_SCHEMA } })
  list(): Promise<LogCatalogueEntry[]> {
    return this.config.logCatalogue();
  }

  @RequiresScope('write')
  @Post('logs')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Set the list of logs: every previous entry is deleted or replaced; answers the list',
  })
  @ApiBody({ schema: { type: 'array', items: LOG_ENTRY_SCHEMA } })
  @ApiOkResponse({ schema: { type: 'array', items: LOG_ENTRY_SCHEMA } })
  @ApiBadRequestResponse({ description: '`{"error": "..."}` naming each invalid entry field' })
  replace(@Body() body: unknown, @CorrelationId() correlationId: string): Promise<LogCatalogueEntry[]> {
    return this.config.replaceLogCatalogue(body, correlationId);
  }

  @Get('meta/:name')
  @ReadsFrom('clusterConfig', 'serviceJobs')
  @ApiOperation({
    summary:
      "Get a log's meta information: one entry per live allocation of the entry's job (a service job) and task group",
  })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'object' } } })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no log of that id in the catalogue' })
  async meta(@Param('name') name: string): Promise<LogMeta[]> {
    const entry = (await this.config.logCatalogue()).find((log) => log.id === name);
    if (!entry) throw genvidNotFound(`log ${name} is not in the log catalogue`);
    return (await this.allocations.ofLog(entry)).map((allocation) => ({
      allocID: allocation.id,
      status: allocation.status,
      jobName: allocation.jobName,
      taskName: entry.task,
      fileName: entry.fileName,
      createTime: allocation.createTime.toISOString(),
      // The seed types it as a string; Genvid's own answers carry "true" / "false".
      logLevel: String(entry.logLevel),
    }));
  }
}
