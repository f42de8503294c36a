import { CorrelationId, RequiresScope, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { Body, Get, HttpCode, HttpStatus, Inject, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import type { EventRulesFile } from '@spindle/contracts';
import { EventResultsQuery } from '@spindle/read-models';
import type { EventResult } from '@spindle/read-models';
import { ClusterConfigService } from '../../cluster-config/cluster-config.service';
import type { EventDefinitions } from '../../cluster-config/cluster-config.service';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidBadRequest } from './genvid-errors.filter';

const RULES_EXAMPLE = {
  maps: [
    {
      id: 'votes',
      source: 'vote',
      where: { 'data.color': { $in: ['red', 'blue'] } },
      key: ['$data.color'],
      value: '$data.weight',
    },
  ],
  reductions: [{ id: 'votesPerColor', source: 'votes', operations: ['count', 'sum'], period: 1000 }],
};

interface EventsDefinitions {
  mapreduce: EventRulesFile[];
  errors: string;
}

// Genvid's shape: the files as `mapreduce`, the errors one per line.
function genvidDefinitions({ files, errors }: EventDefinitions): EventsDefinitions {
  return { mapreduce: files, errors: errors.join('\n') };
}

// Genvid's events: map and reduce rules (event-sourced, stream event-rules) over the events jobs
// publish, and the log of their results, which the projector keeps (docs/dialects/genvid.md, "Events").
@DialectController('genvid: events', GenvidErrorsFilter, `${GENVID_PREFIX}/v1/events`)
export class GenvidEventsController {
  constructor(
    private readonly config: ClusterConfigService,
    private readonly resultsLog: EventResultsQuery,
    @Inject(SPINDLE_CONFIG) private readonly spindle: SpindleConfig,
  ) {}

  @Get()
  @ReadsFrom('clusterConfig')
  @ApiOperation({ summary: 'Get the events definitions and their errors (one line per rule left out)' })
  @ApiOkResponse({ schema: { type: 'object', example: { mapreduce: [RULES_EXAMPLE], errors: '' } } })
  async definitions(): Promise<EventsDefinitions> {
    return genvidDefinitions(await this.config.eventDefinitions());
  }

  @RequiresScope('write')
  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      'Replace the events definitions (one events file or an array of them); answers them with their errors',
  })
  @ApiBody({ schema: { type: 'object', example: RULES_EXAMPLE } })
  @ApiOkResponse({ schema: { type: 'object', example: { mapreduce: [RULES_EXAMPLE], errors: '' } } })
  @ApiBadRequestResponse({
    description: '`{"error": "..."}` naming each field that does not fit the rules shape',
  })
  async replace(@Body() body: unknown, @CorrelationId() correlationId: string): Promise<EventsDefinitions> {
    return genvidDefinitions(await this.config.replaceEventRules(body, correlationId));
  }

  @Get('results/:counter')
  @ApiOperation({
    summary:
      'Get every result after `counter` (at most 10 000, the newest the log keeps), and the counter at the end of the log. The log resets when no request came for 5 s (GENVID_EVENTS_RESET_MS); counters go on growing. It is kept in Postgres: every gateway process answers the same, and a restart keeps it',
  })
  @ApiParam({ name: 'counter', description: 'Position of the log (0: from its start)', example: 0 })
  @ApiOkResponse({ schema: { type: 'object', example: { counter: 2, messages: [] } } })
  @ApiBadRequestResponse({ description: '`{"error": "..."}`: counter is not a non-negative integer' })
  results(@Param('counter') counter: string): Promise<{ counter: number; messages: EventResult[] }> {
    if (!/^[0-9]{1,15}$/.test(counter)) throw genvidBadRequest('counter: must be a non-negative integer');
    return this.resultsLog.after(Number(counter), this.spindle.genvidEventsResetMs);
  }
}
