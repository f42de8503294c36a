import { BadRequestException, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { ProblemException, ValidationProblem } from '@spindle/platform';
import { DialectError, jsonErrorsFilter } from './json-errors.filter';
import { MistErrorsFilter } from './mist/mist-errors.filter';

// What a filter answered: status, content type and body, caught by a stand-in for Fastify's reply.
function answer(filter: ExceptionFilter, exception: unknown) {
  const sent: { status?: number; type?: string; body?: unknown } = {};
  const reply = {
    status: (status: number) => ((sent.status = status), reply),
    header: (_name: string, value: string) => ((sent.type = value), reply),
    send: (body: unknown) => ((sent.body = body), reply),
  };
  // The route's body limit, as Fastify tells it.
  const request = { headers: {}, routeOptions: { bodyLimit: 64 * 1024 } };
  filter.catch(exception, {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }),
  } as unknown as ArgumentsHost);
  return sent;
}

const missing = new ValidationProblem([
  { field: 'artifact', rule: 'exists', message: 'artifact a does not exist' },
]);
const notFound = new ProblemException(
  HttpStatus.NOT_FOUND,
  'not-found',
  'Not Found',
  'job j does not exist',
  [{ field: 'job', rule: 'exists', message: 'job j does not exist' }],
);

describe('the dialects’ error filters', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));

  it('answers JSON with one message field, naming the fields of a core problem', () => {
    const filter = jsonErrorsFilter({ name: 'genvid', field: 'error' });
    expect(answer(filter, missing)).toEqual({
      status: 400,
      type: 'application/json; charset=utf-8',
      body: { error: 'artifact a does not exist' }, // the message names its field already
    });
    const unnamed = new ValidationProblem([
      { field: 'count', rule: 'isInt', message: 'must be an integer' },
      { field: 'name', rule: 'required', message: 'name is required' },
    ]);
    expect(answer(filter, unnamed)).toMatchObject({
      status: 400,
      body: { error: 'count: must be an integer; name is required' },
    });
    expect(answer(filter, new DialectError(404, 'no such secret'))).toMatchObject({
      status: 404,
      body: { error: 'no such secret' },
    });
    expect(answer(filter, new Error('connection reset'))).toMatchObject({
      status: 500,
      body: { error: 'internal error' },
    });
  });

  it('maps a client refusal’s status where the dialect says (Ilum: 409), never a 404 or ours', () => {
    const filter = jsonErrorsFilter({
      name: 'ilum',
      field: 'message',
      statusOf: (s) => (s === 404 ? s : 409),
    });
    expect(answer(filter, missing).status).toBe(409);
    expect(answer(filter, new BadRequestException('body is not JSON')).status).toBe(409);
    expect(answer(filter, new DialectError(404, 'gone')).status).toBe(404);
    expect(answer(filter, new Error('boom')).status).toBe(500);
  });

  it('answers Mist’s plain text: "Bad request: …", a bare message for a missing thing, "Server error: …"', () => {
    const filter = new MistErrorsFilter();
    expect(answer(filter, missing)).toEqual({
      status: 400,
      type: 'text/plain; charset=utf-8',
      body: 'Bad request: artifact a does not exist',
    });
    expect(answer(filter, notFound)).toMatchObject({ status: 404, body: 'job j does not exist' });
    expect(answer(filter, new BadRequestException('body is not JSON'))).toMatchObject({
      status: 400,
      body: 'Bad request: body is not JSON',
    });
    expect(answer(filter, new Error('connection reset'))).toMatchObject({
      status: 500,
      body: 'Server error: connection reset',
    });
    expect(answer(filter, new DialectError(409, 'Filename must be unique'))).toMatchObject({
      status: 409,
      body: 'Filename must be unique',
    });
  });

  it('answers Fastify’s refusal of a body past the route’s limit with 413 naming the limit, not 500', () => {
    // As Nest hands on Fastify's FST_ERR_CTP_BODY_TOO_LARGE.
    const tooLarge = new HttpException('Request body is too large', 413);
    expect(answer(new MistErrorsFilter(), tooLarge)).toEqual({
      status: 413,
      type: 'text/plain; charset=utf-8',
      body: 'Bad request: body is larger than this route accepts (at most 64 KiB, 65536 bytes)',
    });
    expect(answer(jsonErrorsFilter({ name: 'genvid', field: 'error' }), tooLarge)).toMatchObject({
      status: 413,
      body: { error: 'body is larger than this route accepts (at most 64 KiB, 65536 bytes)' },
    });
  });
});
