import { Body, Controller, Get, Param, Patch, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { LogCatalogueEntry, LoggerLevels } from '@spindle/contracts';
import { CorrelationId, RequiresScope } from '@spindle/platform';
import { ReadsFrom } from '../consistency/consistent-read';
import { EventDefinitionsDto, EventRulesFileDto, LogCatalogueEntryDto } from './cluster-config.dto';
import { AllocationLevelsRoute, DefaultLevelsRoute, SetLevelsRoute } from './logger-level-routes';
import { ClusterConfigService } from './cluster-config.service';
import type { EventDefinitions, LevelsByLogger } from './cluster-config.service';

const LOGGER_PARAM = { name: 'loggerId', description: 'The logger ID', example: 'web' };
const ALLOC_PARAM = {
  name: 'allocId',
  description: "An allocation: a service job's instance, by the id of the job that runs it",
};
const BAD_BODY = 'Each invalid path named in `errors`; nothing changed';

// The cluster's configuration documents on the native API: the log catalogue, logger levels and
// event rules, the same documents (and the same service) as Genvid's /v1/log and /v1/events.
@ApiTags('cluster-config')
@RequiresScope('read')
@Controller('api/v1')
export class ClusterConfigController {
  constructor(private readonly config: ClusterConfigService) {}

  @Get('log-catalogue')
  @ReadsFrom('clusterConfig')
  @ApiOperation({ summary: "The log catalogue: which logs the service jobs' task groups write" })
  @ApiOkResponse({ type: [LogCatalogueEntryDto] })
  logCatalogue(): Promise<LogCatalogueEntry[]> {
    return this.config.logCatalogue();
  }

  @RequiresScope('write')
  @Put('log-catalogue')
  @ApiOperation({ summary: 'Replace the whole log catalogue (ids unique, at most 1000 entries)' })
  @ApiBody({ type: [LogCatalogueEntryDto] })
  @ApiOkResponse({ type: [LogCatalogueEntryDto] })
  @ApiBadRequestResponse({ description: BAD_BODY })
  replaceLogCatalogue(
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<LogCatalogueEntry[]> {
    return this.config.replaceLogCatalogue(body, correlationId);
  }

  @Get('loggers/defaults')
  @DefaultLevelsRoute('Default logger levels, by logger ID and name')
  loggerDefaults(): Promise<LevelsByLogger> {
    return this.config.loggerDefaults();
  }

  @Patch('loggers/defaults/:loggerId')
  @SetLevelsRoute(
    "Merge levels into one logger's defaults (running instances get them live); answers them",
    [LOGGER_PARAM],
    BAD_BODY,
  )
  setLoggerDefaults(
    @Param('loggerId') loggerId: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<LoggerLevels> {
    return this.config.setLoggerDefaults(loggerId, body, correlationId);
  }

  @Get('loggers/allocations/:allocId')
  @AllocationLevelsRoute(
    'An allocation\'s levels: every logger name, with its own level or "" where it uses the default',
    ALLOC_PARAM,
    'No such allocation',
  )
  allocationLoggers(@Param('allocId') allocId: string): Promise<LevelsByLogger> {
    return this.config.allocationLoggers(allocId);
  }

  @Patch('loggers/allocations/:allocId/:loggerId')
  @SetLevelsRoute(
    "Merge levels into one logger's levels of one allocation; answers them",
    [ALLOC_PARAM, LOGGER_PARAM],
    BAD_BODY,
    'No such allocation',
  )
  setAllocationLoggers(
    @Param('allocId') allocId: string,
    @Param('loggerId') loggerId: string,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<LoggerLevels> {
    return this.config.setAllocationLoggers(allocId, loggerId, body, correlationId);
  }

  @Get('event-rules')
  @ReadsFrom('clusterConfig')
  @ApiOperation({ summary: 'The event rules (map and reduce) and the errors of those left out' })
  @ApiOkResponse({ type: EventDefinitionsDto })
  eventRules(): Promise<EventDefinitions> {
    return this.config.eventDefinitions();
  }

  @RequiresScope('write')
  @Put('event-rules')
  @ApiOperation({
    summary:
      'Replace the event rules (an array of rule files); a rule that does not compile is kept and reported in `errors`',
  })
  @ApiBody({ type: [EventRulesFileDto] })
  @ApiOkResponse({ type: EventDefinitionsDto })
  @ApiBadRequestResponse({ description: BAD_BODY })
  replaceEventRules(
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ): Promise<EventDefinitions> {
    return this.config.replaceEventRules(body, correlationId);
  }
}
