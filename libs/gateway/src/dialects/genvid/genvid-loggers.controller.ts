import { Body, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import type { LoggerLevels } from '@spindle/contracts';
import { CorrelationId } from '@spindle/platform';
import { ClusterConfigService } from '../../cluster-config/cluster-config.service';
import type { LevelsByLogger } from '../../cluster-config/cluster-config.service';
import {
  AllocationLevelsRoute,
  DefaultLevelsRoute,
  SetLevelsRoute,
} from '../../cluster-config/logger-level-routes';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter } from './genvid-errors.filter';

const LOGGER_PARAM = { name: 'loggerID', description: 'The logger ID', example: 'web' };
const ALLOC_PARAM = { name: 'allocID', description: 'The allocation ID (the id of the job that runs it)' };
const BAD_BODY = '`{"error": "..."}` naming the logger name whose level is wrong';
const NO_ALLOC = '`{"error": "..."}`: no such allocation';

// Logger levels: defaults, and per allocation the levels that override them. Running instances
// get every change live through their SPINDLE_LOGGERS file (docs/dialects/genvid.md).
@DialectController('genvid: loggers', GenvidErrorsFilter, `${GENVID_PREFIX}/v1/log`)
export class GenvidLoggersController {
  constructor(private readonly config: ClusterConfigService) {}

  @Get('defaults')
  @DefaultLevelsRoute('Get the default loggers configuration: `{loggerID: {name: level}}`')
  defaults(): Promise<LevelsByLogger> {
    return this.config.loggerDefaults();
  }

  @Post('defaults/:loggerID')
  @HttpCode(HttpStatus.OK)
  @SetLevelsRoute(
    "Set a default logger configuration; answers the logger's default levels",
    [LOGGER_PARAM],
    BAD_BODY,
  )
  setDefault(
    @Param('loggerID') loggerId: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<LoggerLevels> {
    return this.config.setLoggerDefaults(loggerId, body, correlationId);
  }

  @Get('allocs/:allocID')
  @AllocationLevelsRoute(
    "Get an allocation's loggers configuration: every default logger name, with an empty value where the allocation uses the default",
    ALLOC_PARAM,
    NO_ALLOC,
  )
  alloc(@Param('allocID') allocId: string): Promise<LevelsByLogger> {
    return this.config.allocationLoggers(allocId);
  }

  @Post('allocs/:allocID/:loggerID')
  @HttpCode(HttpStatus.OK)
  @SetLevelsRoute(
    "Set an allocation's logger configuration; answers the allocation's own levels",
    [ALLOC_PARAM, LOGGER_PARAM],
    BAD_BODY,
    NO_ALLOC,
  )
  setAlloc(
    @Param('allocID') allocId: string,
    @Param('loggerID') loggerId: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<LoggerLevels> {
    return this.config.setAllocationLoggers(allocId, loggerId, body, correlationId);
  }
}
