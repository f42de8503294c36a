import { HttpStatus, applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ValidationProblem } from '@spindle/platform';

// Optimistic concurrency over HTTP: a read answers the entity's version (its stream position) as
// a strong ETag; a change sends it back in If-Match, and the owner refuses the change with 412 when
// the entity moved meanwhile. A change without If-Match is merged by the owner into the version
// it holds when it decides (the gateway never reads before it writes), so no change is lost.
export function sendVersion(reply: FastifyReply, version: number): void {
  void reply.header('etag', `"${version}"`);
}

const ETAG = /^(?:W\/)?"(\d{1,15})"$/;

// The version an If-Match names (`"7"`; `*` or none: whatever the gateway read), else a 400.
export function versionOf(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const match = ETAG.exec(ifMatch.trim());
  if (!match)
    throw new ValidationProblem([
      { field: 'If-Match', rule: 'isETag', message: 'If-Match must be an ETag this API sent, such as "3"' },
    ]);
  return Number(match[1]);
}

// Documents If-Match and the 412 on a change.
export function ApiIfMatch() {
  return applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'The ETag of the version this change is based on (from a GET). A change to a version that is no ' +
        'longer current is refused with 412; without If-Match the change is based on the current version.',
    }),
    ApiResponse({
      status: HttpStatus.PRECONDITION_FAILED,
      description: 'The entity changed since that version',
    }),
  );
}
