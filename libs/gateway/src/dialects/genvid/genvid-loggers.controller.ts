import { RequiresScope } from '@spindle/platform';
import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { z } from 'zod';
import { CommandPatterns, LOGGERS_STREAM_ID, LOG_LEVELS } from '@spindle/contracts';
import type { LoggerLevels } from '@spindle/contracts';
import { ClusterConfigQuery } from '@spindle/read-models';
import { ClusterConfigService } from '../../cluster-config/cluster-config.service';
import { ReadsFrom } from '../../consistency/consistent-read';
import { GenvidAllocations } from './genvid-allocations';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidBadRequest, genvidNotFound } from './genvid-errors.filter';

type LevelsByLogger = Record<string, Record<string, string>>;

// `{name: level}`; an empty level takes the name's entry away (the default applies again).
const levelsBodySchema = z
  .record(
    z.string().min(1).max(200),
    z.enum([...LOG_LEVELS, ''], { error: `must be one of ${LOG_LEVELS.join(', ')} ("" for the default)` }),
  )
  .refine((levels) => Object.keys(levels).length > 0, { message: 'names at least one logger name' });
const LEVELS_BODY = {
  type: 'object',
  additionalProperties: { type: 'string', enum: [...LOG_LEVELS, ''] },
  example: { leaf: 'info' },
};
const LOGGER_PARAM = { name: 'loggerID', description: 'The logger ID', example: 'web' };
const ALLOC_PARAM = { name: 'allocID', description: 'The allocation ID (a job id of the core for now)' };

// Logger levels: defaults, and per allocation the levels that override them. Running instances
// get every change live through their SPINDLE_LOGGERS file (docs/dialects/genvid.md).
@ApiTags('genvid: loggers')
@UseFilters(GenvidErrorsFilter)
@RequiresScope('read')
@Controller(`${GENVID_PREFIX}/v1/log`)
export class GenvidLoggersController {
  constructor(
    private readonly config: ClusterConfigService,
    private readonly query: ClusterConfigQuery,
    private readonly allocations: GenvidAllocations,
  ) {}

  @Get('defaults')
  @ReadsFrom('clusterConfig')
  @ApiOperation({ summary: 'Get the default loggers configuration: `{loggerID: {name: level}}`' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: LEVELS_BODY } })
  async defaults(): Promise<LevelsByLogger> {
    return (await this.query.loggers()).defaults;
  }

  @RequiresScope('write')
  @Post('defaults/:loggerID')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Set a default logger configuration; answers the logger's default levels" })
  @ApiParam(LOGGER_PARAM)
  @ApiBody({ schema: LEVELS_BODY })
  @ApiOkResponse({ schema: LEVELS_BODY })
  @ApiBadRequestResponse({ description: '`{"error": "..."}` naming the logger name whose level is wrong' })
  async setDefault(@Param('loggerID') loggerId: string, @Body() body: unknown): Promise<LoggerLevels> {
    await this.set(null, loggerId, body);
    return (await this.query.loggers()).defaults[loggerId] ?? {};
  }

  @Get('allocs/:allocID')
  @ReadsFrom('clusterConfig', 'jobs')
  @ApiOperation({
    summary:
      "Get an allocation's loggers configuration: every default logger name, with an empty value where the allocation uses the default",
  })
  @ApiParam(ALLOC_PARAM)
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: LEVELS_BODY } })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no such allocation' })
  async alloc(@Param('allocID') allocId: string): Promise<LevelsByLogger> {
    await this.assertAllocation(allocId);
    const loggers = await this.query.loggers();
    const own = loggers.allocs[allocId] ?? {};
    const ids = new Set([...Object.keys(loggers.defaults), ...Object.keys(own)]);
    return Object.fromEntries(
      [...ids].sort().map((id) => {
        const names = new Set([...Object.keys(loggers.defaults[id] ?? {}), ...Object.keys(own[id] ?? {})]);
        return [id, Object.fromEntries([...names].sort().map((name) => [name, own[id]?.[name] ?? '']))];
      }),
    );
  }

  @RequiresScope('write')
  @Post('allocs/:allocID/:loggerID')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Set an allocation's logger configuration; answers the allocation's own levels" })
  @ApiParam(ALLOC_PARAM)
  @ApiParam(LOGGER_PARAM)
  @ApiBody({ schema: LEVELS_BODY })
  @ApiOkResponse({ schema: LEVELS_BODY })
  @ApiBadRequestResponse({ description: '`{"error": "..."}` naming the logger name whose level is wrong' })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no such allocation' })
  async setAlloc(
    @Param('allocID') allocId: string,
    @Param('loggerID') loggerId: string,
    @Body() body: unknown,
  ): Promise<LoggerLevels> {
    await this.assertAllocation(allocId);
    await this.set(allocId, loggerId, body);
    return (await this.query.loggers()).allocs[allocId]?.[loggerId] ?? {};
  }

  private async set(allocId: string | null, loggerId: string, body: unknown): Promise<void> {
    if (loggerId.length > 200) throw genvidBadRequest('loggerID: at most 200 characters');
    const levels = this.config.parse(levelsBodySchema, body, 'a logger name');
    await this.config.change(CommandPatterns.setLoggerLevels, LOGGERS_STREAM_ID, {
      allocId,
      loggerId,
      levels,
    });
  }

  private async assertAllocation(allocId: string): Promise<void> {
    if (!(await this.allocations.find(allocId))) throw genvidNotFound(`allocation ${allocId} does not exist`);
  }
}
