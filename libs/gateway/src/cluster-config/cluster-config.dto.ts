import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LOG_LEVELS, REDUCE_OPERATIONS } from '@spindle/contracts';

// OpenAPI shapes of the cluster configuration documents. Bodies are validated by the contracts'
// zod schemas (the ones the scheduler and the Genvid routes use), so these classes only describe.

export class LogCatalogueEntryDto {
  @ApiProperty({ example: 'web-out', maxLength: 200, description: 'The log ID (unique)' }) id!: string;
  @ApiProperty({ example: 'front', description: "The task group (of the job's) that writes it" })
  group!: string;
  @ApiProperty({ example: 'web', description: 'The service job (its name) that writes it' }) job!: string;
  @ApiProperty({ example: 'server', description: 'The task' }) task!: string;
  @ApiProperty({ example: 'stdout', description: 'The file name' }) fileName!: string;
  @ApiProperty({ description: 'Whether the process supports log levels' }) logLevel!: boolean;
}

export const LEVELS_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string', enum: [...LOG_LEVELS, ''] },
  example: { http: 'info', db: 'warning' },
  description: 'Level by logger name; "" in a change takes the name away (the default applies again)',
};

export const LEVELS_BY_LOGGER_SCHEMA = {
  type: 'object',
  additionalProperties: LEVELS_SCHEMA,
  example: { web: { http: 'info' } },
  description: 'Levels by logger ID, then by name',
};

export class EventMapRuleDto {
  @ApiProperty({ example: 'votes' }) id!: string;
  @ApiProperty({ example: 'vote', description: 'The `source` of the published events it takes' })
  source!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { 'data.color': { $in: ['red', 'blue'] } },
    description: 'A MongoDB query over {source, data, jobId, at}',
  })
  where?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [Object], example: ['$data.color'], description: 'Aggregation expressions' })
  key?: unknown[];
  @ApiPropertyOptional({ example: '$data.weight', description: 'An aggregation expression (default $data)' })
  value?: unknown;
}

export class EventReduceRuleDto {
  @ApiProperty({ example: 'perColor' }) id!: string;
  @ApiProperty({ example: 'votes', description: 'The map rule whose results it reduces' }) source!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'A query over {id, key, value}',
  })
  where?: Record<string, unknown>;
  @ApiProperty({ enum: REDUCE_OPERATIONS, isArray: true, example: ['count', 'sum'] })
  operations!: string[];
  @ApiProperty({ minimum: 50, maximum: 3_600_000, example: 1000, description: 'Milliseconds per reduction' })
  period!: number;
}

export class EventRulesFileDto {
  @ApiPropertyOptional({ type: [EventMapRuleDto] }) maps?: EventMapRuleDto[];
  @ApiPropertyOptional({ type: [EventReduceRuleDto] }) reductions?: EventReduceRuleDto[];
}

export class EventDefinitionsDto {
  @ApiProperty({ type: [EventRulesFileDto] }) files!: EventRulesFileDto[];
  @ApiProperty({ type: [String], description: 'One line per rule left out of the evaluation' })
  errors!: string[];
}
