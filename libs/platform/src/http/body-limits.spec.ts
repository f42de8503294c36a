import { Body, Controller, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BODY_LIMITS, BodyLimit } from './body-limits';
import { createHttpApp } from './http-app';

@Controller()
class EchoController {
  @Post('small')
  small(@Body() body: unknown): unknown {
    return { got: JSON.stringify(body).length };
  }

  @BodyLimit(BODY_LIMITS.large)
  @Post('large')
  large(@Body() body: unknown): unknown {
    return { got: JSON.stringify(body).length };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

// An HTTP app as every service builds it (createHttpApp), over Fastify's real body parsing.
describe('request body limits', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createHttpApp(EchoModule, { logger: false });
    await app.init();
  });

  afterAll(() => app.close());

  const post = (url: string, bytes: number) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      // A JSON body of exactly `bytes` bytes.
      payload: `{"a":"${'x'.repeat(bytes - 8)}"}`,
    });

  it('takes a JSON body up to the default limit on a route that says nothing', async () => {
    const res = await post('/small', BODY_LIMITS.default);
    expect(res.statusCode).toBe(201);
  });

  it('refuses one byte more with 413, naming the limit, before the handler runs', async () => {
    const res = await post('/small', BODY_LIMITS.default + 1);
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      status: 413,
      title: 'Content Too Large',
      detail: 'body is larger than this route accepts (at most 64 KiB, 65536 bytes)',
      errors: [{ field: 'body', rule: 'maxBytes' }],
    });
  });

  it('gives a route that declares it the large limit, and no more', async () => {
    expect((await post('/large', BODY_LIMITS.default + 1)).statusCode).toBe(201);
    expect((await post('/large', BODY_LIMITS.large)).statusCode).toBe(201);
    const res = await post('/large', BODY_LIMITS.large + 1);
    expect(res.statusCode).toBe(413);
    expect(res.json().detail).toContain('(at most 512 KiB, 524288 bytes)');
  });
});
