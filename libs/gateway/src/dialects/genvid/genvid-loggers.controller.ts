import { RequiresScope } from '@spindle/platform';
import { Body, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { LoggerLevels } from '@spindle/contracts';
import { LEVELS_BY_LOGGER_SCHEMA, LEVELS_SCHEMA } from '../../cluster-config/cluster-config.dto';
import { ClusterConfigService } from '../../cluster-config/cluster-config.service';
import type { LevelsByLogger } from '../../cluster-config/cluster-config.service';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter } from './genvid-errors.filter';

const LOGGER_PARAM = { name: 'loggerID', description: 'The logger ID', example: 'web' };
const ALLOC_PARAM = { name: 'allocID', description: 'The allocation ID (the id of the job that runs it)' };

// Logger levels: defaults, and per allocation the levels that override them. Running instances
// get every change live through their SPINDLE_LOGGERS file (docs/dialects/genvid.md).
@DialectController('genvid: loggers', GenvidErrorsFilter, `${GENVID_PREFIX}/v1/log`)
export class GenvidLoggersController {
  constructor(private readonly config: ClusterConfigService) {}

  @Get('defaults')
  @ReadsFrom('clusterConfig')
  @ApiOperation({ summary: 'Get the default loggers configuration: `{loggerID: {name: level}}`' })
  @ApiOkResponse({ schema: LEVELS_BY_LOGGER_SCHEMA })
  defaults(): Promise<LevelsByLogger> {
    return this.config.loggerDefaults();
  }

  @RequiresScope('write')
  @Post('defaults/:loggerID')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Set a default logger configuration; answers the logger's default levels" })
  @ApiParam(LOGGER_PARAM)
  @ApiBody({ schema: LEVELS_SCHEMA })
  @ApiOkResponse({ schema: LEVELS_SCHEMA })
  @ApiBadRequestResponse({ description: '`{"error": "..."}` naming the logger name whose level is wrong' })
  setDefault(@Param('loggerID') loggerId: string, @Body() body: unknown): Promise<LoggerLevels> {
    return this.config.setLoggerDefaults(loggerId, body);
  }

  @Get('allocs/:allocID')
  @ReadsFrom('clusterConfig', 'jobs')
  @ApiOperation({
    summary:
      "Get an allocation's loggers configuration: every default logger name, with an empty value where the allocation uses the default",
  })
  @ApiParam(ALLOC_PARAM)
  @ApiOkResponse({ schema: LEVELS_BY_LOGGER_SCHEMA })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no such allocation' })
  alloc(@Param('allocID') allocId: string): Promise<LevelsByLogger> {
    return this.config.allocationLoggers(allocId);
  }

  @RequiresScope('write')
  @Post('allocs/:allocID/:loggerID')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Set an allocation's logger configuration; answers the allocation's own levels" })
  @ApiParam(ALLOC_PARAM)
  @ApiParam(LOGGER_PARAM)
  @ApiBody({ schema: LEVELS_SCHEMA })
  @ApiOkResponse({ schema: LEVELS_SCHEMA })
  @ApiBadRequestResponse({ description: '`{"error": "..."}` naming the logger name whose level is wrong' })
  @ApiNotFoundResponse({ description: '`{"error": "..."}`: no such allocation' })
  setAlloc(
    @Param('allocID') allocId: string,
    @Param('loggerID') loggerId: string,
    @Body() body: unknown,
  ): Promise<LoggerLevels> {
    return this.config.setAllocationLoggers(allocId, loggerId, body);
  }
}
