import { Catch } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemDetailsFilter } from '@spindle/platform';
import { DIALECTS } from './dialects';

// Errors raised before a route is chosen (a body that is not JSON, one too large) reach only the
// global filters, not a dialect's controllers' own: under a dialect's paths they are rendered as
// that dialect renders errors (when its entry says how), elsewhere as problem+json.
@Catch()
export class DialectErrorsFilter implements ExceptionFilter {
  private readonly problems = new ProblemDetailsFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const url = host.switchToHttp().getRequest<FastifyRequest>().url;
    const dialect = DIALECTS.find((d) => d.errors && url.startsWith(`/compat/${d.name}/`));
    (dialect?.errors ?? this.problems).catch(exception, host);
  }
}
