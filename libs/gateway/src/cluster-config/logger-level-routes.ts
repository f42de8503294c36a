import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { ApiParamOptions } from '@nestjs/swagger';
import { RequiresScope } from '@spindle/platform';
import { ReadsFrom } from '../consistency/consistent-read';
import { LEVELS_BY_LOGGER_SCHEMA, LEVELS_SCHEMA } from './cluster-config.dto';

// The logger-level routes, documented once for the two APIs that serve them (the native
// /api/v1/loggers and Genvid's /v1/log): each keeps its paths, method and words.

// GET the default levels by logger.
export function DefaultLevelsRoute(summary: string): MethodDecorator {
  return applyDecorators(
    ReadsFrom('clusterConfig'),
    ApiOperation({ summary }),
    ApiOkResponse({ schema: LEVELS_BY_LOGGER_SCHEMA }),
  );
}

// GET an allocation's levels by logger (the path parameter names it; 404 when it does not exist).
export function AllocationLevelsRoute(
  summary: string,
  param: ApiParamOptions,
  notFound: string,
): MethodDecorator {
  return applyDecorators(
    ReadsFrom('clusterConfig', 'jobs'),
    ApiOperation({ summary }),
    ApiParam(param),
    ApiOkResponse({ schema: LEVELS_BY_LOGGER_SCHEMA }),
    ApiNotFoundResponse({ description: notFound }),
  );
}

// A change of one logger's levels (the path parameters name it), answering them; 400 for a body
// that is not levels, 404 (when `notFound` says why) for an allocation that does not exist.
export function SetLevelsRoute(
  summary: string,
  params: readonly ApiParamOptions[],
  badBody: string,
  notFound?: string,
): MethodDecorator {
  return applyDecorators(
    RequiresScope('write'),
    ApiOperation({ summary }),
    ...params.map((param) => ApiParam(param)),
    ApiBody({ schema: LEVELS_SCHEMA }),
    ApiOkResponse({ schema: LEVELS_SCHEMA }),
    ApiBadRequestResponse({ description: badBody }),
    ...(notFound === undefined ? [] : [ApiNotFoundResponse({ description: notFound })]),
  );
}
