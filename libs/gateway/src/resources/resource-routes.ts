import { Controller, Delete, Get, HttpCode, HttpStatus, Post, Put, applyDecorators } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { ApiOperationOptions } from '@nestjs/swagger';
import type { ApiScope } from '@spindle/contracts';
import { RequiresScope } from '@spindle/platform';
import type { ReadModelName } from '@spindle/read-models';
import { ApiIfMatch } from '../commands/entity-version';
import { ApiIdempotencyKey } from '../commands/idempotency-key';
import { ReadsFrom } from '../consistency/consistent-read';

// A route's own decorators (`more`) go first: they are applied before the common ones, as the lines
// below a stack of decorators are, so a response both declare (the 403 of a scope) reads the
// route's words first.
type RouteDecorator = MethodDecorator | ClassDecorator;

// A resource of the native API as its routes show it: where its controller lives, the path
// parameter that names one, the read model its reads wait for, and its DTOs.
export interface ResourceRoutes {
  readonly tag: string; // "contexts"
  readonly path: string; // "api/v1/contexts"
  readonly noun: string; // "context": "No such context"
  readonly key: { readonly name: string; readonly description: string; readonly example?: string };
  // Where one is, below the controller's path (default `:<key>`; jobs are `jobs/:id` below api/v1).
  readonly one?: string;
  readonly readModel: ReadModelName;
  readonly dto: Type<unknown>;
  readonly pageDto: Type<unknown>;
}

const oneOf = (r: ResourceRoutes) => r.one ?? `:${r.key.name}`;
const noSuch = (r: ResourceRoutes) => ApiNotFoundResponse({ description: `No such ${r.noun}` });

// The controller: its tag, its path, and reads for any key with the read scope.
export function ResourceController(r: ResourceRoutes): ClassDecorator {
  return applyDecorators(ApiTags(r.tag), RequiresScope('read'), Controller(r.path));
}

// POST: create one (201, Location, Idempotency-Key); 409 (`conflict` says when) if the name is taken.
export function CreateRoute(
  r: ResourceRoutes,
  { conflict, ...operation }: ApiOperationOptions & { readonly conflict?: string },
  ...more: RouteDecorator[]
): MethodDecorator {
  return applyDecorators(
    ...more,
    RequiresScope('write'),
    Post(),
    ApiOperation(operation),
    ApiCreatedResponse({ type: r.dto }),
    ApiConflictResponse({ description: conflict ?? `A ${r.noun} with this name exists` }),
    ApiIdempotencyKey(),
  );
}

// GET: a keyset page.
export function ListRoute(r: ResourceRoutes, summary: string): MethodDecorator {
  return applyDecorators(
    Get(),
    ReadsFrom(r.readModel),
    ApiOperation({ summary }),
    ApiOkResponse({ type: r.pageDto }),
  );
}

// GET one (404 when there is none).
export function GetRoute(r: ResourceRoutes, summary: string): MethodDecorator {
  return applyDecorators(
    Get(oneOf(r)),
    ReadsFrom(r.readModel),
    ApiOperation({ summary }),
    ApiParam(r.key),
    ApiOkResponse({ type: r.dto }),
    noSuch(r),
  );
}

// PUT one: a change based on the version If-Match names.
export function UpdateRoute(r: ResourceRoutes, summary: string): MethodDecorator {
  return applyDecorators(
    RequiresScope('write'),
    Put(oneOf(r)),
    ApiOperation({ summary }),
    ApiParam(r.key),
    ApiOkResponse({ type: r.dto }),
    noSuch(r),
    ApiIfMatch(),
  );
}

// POST one's action (`:name/start`): a change named by its path, answering the resource (200).
export function ActionRoute(
  r: ResourceRoutes,
  scope: ApiScope,
  action: string,
  summary: string,
  ...more: RouteDecorator[]
): MethodDecorator {
  return applyDecorators(
    ...more,
    RequiresScope(scope),
    Post(`${oneOf(r)}/${action}`),
    HttpCode(HttpStatus.OK),
    ApiOperation({ summary }),
    ApiParam(r.key),
    ApiOkResponse({ type: r.dto }),
    noSuch(r),
  );
}

// DELETE one: 204 once it is gone.
export function DeleteRoute(r: ResourceRoutes, summary: string, ...more: RouteDecorator[]): MethodDecorator {
  return applyDecorators(
    ...more,
    RequiresScope('write'),
    Delete(oneOf(r)),
    HttpCode(HttpStatus.NO_CONTENT),
    ApiOperation({ summary }),
    ApiParam(r.key),
    ApiNoContentResponse({ description: 'Deleted' }),
    noSuch(r),
  );
}
