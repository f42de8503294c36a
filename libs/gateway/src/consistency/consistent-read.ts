import { Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { ValidationProblem } from '@spindle/platform';
import { ReadBarrier } from '@spindle/read-models';
import type { ReadModelName } from '@spindle/read-models';

// Request header (or `?consistency=`) and response header: `consistent` reads include every write
// acknowledged before the request arrived (the default), `eventual` ones skip the wait, and an
// answer given when the wait's bound passed says `stale`.
export const CONSISTENCY_HEADER = 'spindle-consistency';
const CONSISTENCY_QUERY = 'consistency';
const READS_KEY = 'spindle:reads-read-models';
const LEVELS = ['consistent', 'eventual'] as const;

// Marks a GET route as a read of these read models: it answers only once they include every
// write acknowledged before the request arrived (ConsistentReadInterceptor).
export function ReadsFrom(...models: ReadModelName[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(READS_KEY, models),
    ApiHeader({
      name: 'Spindle-Consistency',
      required: false,
      description:
        '`consistent` (default): the answer includes every write acknowledged before this request ' +
        '(waiting at most READ_CONSISTENCY_TIMEOUT_MS, 2 s, for the read model); `eventual`: no wait. ' +
        'The answer carries the header too: `consistent`, `eventual`, or `stale` when the wait ran out.',
      schema: { type: 'string', enum: [...LEVELS] },
    }),
    ApiQuery({
      name: CONSISTENCY_QUERY,
      required: false,
      description: 'The same as the Spindle-Consistency header, for clients that cannot set headers',
      schema: { type: 'string', enum: [...LEVELS] },
    }),
  );
}

@Injectable()
export class ConsistentReadInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly barrier: ReadBarrier,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const models = this.reflector.getAllAndOverride<ReadModelName[] | undefined>(READS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!models) return next.handle();
    const http = context.switchToHttp();
    const wanted = requestedLevel(http.getRequest<FastifyRequest>());
    const answer =
      wanted === 'eventual' ? 'eventual' : (await this.barrier.await(models)) ? 'consistent' : 'stale';
    void http.getResponse<FastifyReply>().header(CONSISTENCY_HEADER, answer);
    return next.handle();
  }
}

// The level asked for; the query parameter is taken off the query, so the route's own query
// validation never sees it.
function requestedLevel(request: FastifyRequest): (typeof LEVELS)[number] {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.[CONSISTENCY_QUERY];
  if (query) delete query[CONSISTENCY_QUERY];
  const [field, value] =
    fromQuery !== undefined
      ? [CONSISTENCY_QUERY, fromQuery]
      : ['Spindle-Consistency', request.headers[CONSISTENCY_HEADER]];
  if (value === undefined) return 'consistent';
  if (typeof value === 'string' && (LEVELS as readonly string[]).includes(value.toLowerCase()))
    return value.toLowerCase() as (typeof LEVELS)[number];
  throw new ValidationProblem([
    { field, rule: 'isIn', message: `${field} must be one of: ${LEVELS.join(', ')}` },
  ]);
}
