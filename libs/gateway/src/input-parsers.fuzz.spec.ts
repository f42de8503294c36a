import { BadRequestException, HttpException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import fc from 'fast-check';
import { ARTIFACT_NAME_PATTERN } from '@spindle/contracts';
import {
  PROBLEM_CONTENT_TYPE,
  ProblemDetailsFilter,
  ValidationProblem,
  formatDuration,
  parseDuration,
} from '@spindle/platform';
import { checkIdempotencyKey } from './commands/idempotency-key';
import { waitIndexOf, waitMsOf, MAX_WAIT_MS } from './dialects/genvid/genvid-jobs-format';
import { parseGroupJobRequest } from './dialects/ilum/ilum-group-job-format';
import { pairsParam } from './dialects/ilum/ilum-query';
import { DialectError } from './dialects/json-errors.filter';
import { MIST_MAX_LIMIT, MIST_MAX_OFFSET, mistPage } from './dialects/mist/mist-query';

// Property-based fuzzing (fast-check) of the parsers that read what clients send: whatever arrives,
// each either answers a value within its documented bounds or refuses with the surface's 4xx error;
// none throws anything else (which would be a 500). Bounded runs, a fixed seed per run of jest is
// printed by fast-check on failure so a counterexample can be replayed.
const RUNS = { numRuns: 500 };

// What a query string can become once parsed: strings, repeated values, nested objects (qs-style).
const queryValue = fc.oneof(
  fc.string(),
  fc.stringMatching(/^\d{1,12}$/),
  fc.array(fc.string(), { maxLength: 4 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const jsonValue = fc.jsonValue({ maxDepth: 4 });

// Runs the parser; a refusal of the expected kind and status is fine, anything else fails.
function refusedWith(status: number, call: () => unknown): boolean {
  try {
    call();
    return false;
  } catch (e) {
    if (e instanceof DialectError && e.status === status) return true;
    throw e;
  }
}

describe('input parsers under generated input', () => {
  it('durations: any text is a non-negative whole number of ms, Inf, or not a duration; never a throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^P?T?\d{0,14}(\.\d{0,4})?(ms|s|m|h|d|H|M|S|D)?$/)),
        (text) => {
          const ms = parseDuration(text);
          if (ms === null || ms === undefined) return;
          expect(Number.isSafeInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
        },
      ),
      RUNS,
    );
  });

  it('durations: what formatDuration writes, parseDuration reads back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(null), fc.nat({ max: 10 ** 12 })), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      RUNS,
    );
  });

  it('Mist limit/offset/status/paginate: within the bounds, or a 400', () => {
    const keys = fc.constantFrom('limit', 'offset', 'status', 'paginate', 'other');
    fc.assert(
      fc.property(fc.dictionary(keys, queryValue, { maxKeys: 5 }), (query) => {
        let page: ReturnType<typeof mistPage>;
        try {
          page = mistPage(query);
        } catch (e) {
          expect(e).toBeInstanceOf(DialectError);
          expect((e as DialectError).status).toBe(400);
          expect((e as DialectError).message).toMatch(/^Bad request: /);
          return;
        }
        expect(page.limit).toBeGreaterThanOrEqual(0);
        expect(page.limit).toBeLessThanOrEqual(MIST_MAX_LIMIT);
        expect(page.offset).toBeGreaterThanOrEqual(0);
        expect(page.offset).toBeLessThanOrEqual(MIST_MAX_OFFSET);
      }),
      RUNS,
    );
  });

  it('Ilum key=value; forms: any text is pairs or a 409 naming the field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^([a-z=; ]{0,6}){0,6}$/)), (text) => {
        let pairs: Record<string, string>;
        try {
          pairs = pairsParam('tags', text);
        } catch (e) {
          expect(refusedWith(409, () => pairsParam('tags', text))).toBe(true);
          expect((e as Error).message).toContain('tags must be key=value pairs');
          return;
        }
        for (const key of Object.keys(pairs)) {
          expect(key).not.toBe('');
          expect(key).not.toMatch(/[;=]/);
        }
      }),
      RUNS,
    );
  });

  it('Ilum key=value; forms: what a client writes, pairsParam reads back', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    const valueText = fc.stringMatching(/^[A-Za-z0-9_.=:/-]{0,12}$/);
    fc.assert(
      fc.property(fc.dictionary(word, valueText, { maxKeys: 6 }), (pairs) => {
        const text = Object.entries(pairs)
          .map(([key, value]) => `${key}=${value}`)
          .join(';');
        expect(pairsParam('tags', text)).toEqual({ ...pairs });
      }),
      RUNS,
    );
  });

  it('Ilum job bodies: any JSON is a request or a 409', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonValue,
          fc.record(
            {
              type: fc.oneof(
                fc.constant('interactive_job_execute'),
                fc.constant('interactive_code_execute'),
                fc.constant('interactive_code_complete'),
                jsonValue,
              ),
              code: fc.oneof(fc.string(), jsonValue),
              cursor: fc.oneof(fc.integer({ min: -2, max: 40 }), jsonValue),
              jobClass: fc.oneof(fc.stringMatching(/^[a-z_]{1,8}\.[A-Za-z_]{1,8}$/), jsonValue),
              jobConfig: jsonValue,
            },
            { requiredKeys: [] },
          ),
        ),
        (body) => {
          try {
            const request = parseGroupJobRequest(body);
            if (request.type === 'interactive_code_execute') expect(typeof request.code).toBe('string');
            else if (request.type === 'interactive_code_complete') {
              expect(Number.isInteger(request.cursor)).toBe(true);
              expect(request.cursor).toBeGreaterThanOrEqual(0);
              expect(request.cursor).toBeLessThanOrEqual(request.code.length);
            } else {
              expect(typeof request.jobClass).toBe('string');
              expect(typeof request.jobConfig).toBe('object');
            }
          } catch (e) {
            expect(e).toBeInstanceOf(DialectError);
            expect((e as DialectError).status).toBe(409);
          }
        },
      ),
      RUNS,
    );
  });

  it('Genvid wait and waitIndex: within bounds, or a 400', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.string(), { nil: undefined }),
        (wait, index) => {
          try {
            const ms = waitMsOf(wait, () => 0.5);
            expect(ms).toBeGreaterThanOrEqual(0);
            expect(ms).toBeLessThanOrEqual(MAX_WAIT_MS * 1.1);
          } catch (e) {
            expect(refusedWith(400, () => waitMsOf(wait, () => 0.5))).toBe(true);
            expect(e).toBeInstanceOf(DialectError);
          }
          try {
            const at = waitIndexOf(index);
            if (at !== null) expect(Number.isSafeInteger(at) && at >= 0).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(DialectError);
            expect((e as DialectError).status).toBe(400);
          }
        },
      ),
      RUNS,
    );
  });

  it('idempotency keys: the key as sent, or a 400 naming the header', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 20 })),
        (key) => {
          try {
            expect(checkIdempotencyKey(key)).toBe(key);
            expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
          } catch (e) {
            expect(e).toBeInstanceOf(ValidationProblem);
            expect((e as ValidationProblem).getStatus()).toBe(400);
            expect(JSON.stringify((e as ValidationProblem).errors)).toContain('Idempotency-Key');
          }
        },
      ),
      RUNS,
    );
  });

  it('artifact names: an accepted name never climbs out of its directory nor hides', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9_.+/\\-]{0,20}$/)),
        (name) => {
          if (!ARTIFACT_NAME_PATTERN.test(name)) return;
          expect(name.length).toBeLessThanOrEqual(255);
          expect(name).not.toMatch(/[/\\\0]/);
          expect(name).not.toContain('..');
          expect(name.startsWith('.')).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('problem+json: whatever a route throws, the answer is a well-formed problem that leaks no internals', () => {
    const thrown = fc.oneof(
      fc.anything(),
      fc.string().map((m) => new Error(m)),
      fc.record({ statusCode: fc.oneof(fc.integer(), fc.anything()), message: fc.string() }),
      fc.tuple(fc.integer({ min: 400, max: 599 }), fc.string()).map(([s, m]) => new HttpException(m, s)),
      fc.array(fc.string(), { maxLength: 3 }).map((m) => new BadRequestException(m)),
    );
    fc.assert(
      fc.property(thrown, fc.string({ maxLength: 50 }), (exception, url) => {
        const sent = render(exception, `/api/v1/${url}`);
        expect(sent.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
        expect(Number.isInteger(sent.status) && sent.status >= 400 && sent.status <= 599).toBe(true);
        expect(sent.body.status).toBe(sent.status);
        expect(typeof sent.body.type).toBe('string');
        expect(typeof sent.body.title).toBe('string');
        expect(typeof sent.body.detail).toBe('string');
        if (sent.status === 500 && exception instanceof Error && !(exception instanceof HttpException))
          expect(sent.body.detail).toBe('An unexpected error occurred');
      }),
      RUNS,
    );
  });
});

// The filter against a reply that records what it was given (no logging of generated 500s).
function render(exception: unknown, url: string) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  const host = {
    switchToHttp: () => ({
      getResponse: () => reply,
      getRequest: () => ({ headers: {}, method: 'GET', url }),
    }),
  } as unknown as ArgumentsHost;
  const filter = new ProblemDetailsFilter();
  (filter as unknown as { logger: { error(): void } }).logger = { error: () => undefined };
  filter.catch(exception, host);
  return sent;
}
