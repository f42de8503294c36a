import { HttpException, HttpStatus } from '@nestjs/common';
import { ProblemException } from '@spindle/platform';

// What the multipart parser (@fastify/busboy) throws for a body that says multipart/form-data but
// is not: no boundary, cut short, a part without its headers.
const MALFORMED =
  /^(Multipart: Boundary not found|Boundary required|Unexpected end of multipart data)$|terminated early due to unexpected end of multipart data$/;

// A multipart body the client got wrong is the client's error. The parser and @fastify/multipart
// throw plain errors for it (the latter with a 4xx statusCode: too many parts, a file over the
// limit), which would otherwise be answered as a 500. Anything else is returned as it was.
export function multipartRefusal(e: unknown, field: string): unknown {
  if (e instanceof HttpException || !(e instanceof Error)) return e;
  const statusCode = (e as { statusCode?: unknown }).statusCode;
  const status =
    typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500
      ? statusCode
      : MALFORMED.test(e.message)
        ? HttpStatus.BAD_REQUEST
        : undefined;
  if (status === undefined) return e;
  const message = `the multipart/form-data body cannot be read: ${e.message}`;
  return new ProblemException(status, 'multipart', 'Unreadable multipart body', message, [
    { field, rule: 'multipart', message },
  ]);
}
