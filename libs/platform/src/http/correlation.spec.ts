import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, from } from 'rxjs';
import {
  CorrelatedConsoleLogger,
  CorrelationInterceptor,
  correlationIdOf,
  currentCorrelationId,
  requestCorrelationId,
  withCorrelationId,
} from './correlation';

describe('a request’s correlation id', () => {
  it('is the client’s X-Correlation-Id when it is usable', () => {
    expect(correlationIdOf({ 'x-correlation-id': 'order-4711' })).toBe('order-4711');
  });

  it('else the trace id of a W3C traceparent', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(correlationIdOf({ traceparent })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(correlationIdOf({ 'x-correlation-id': 'mine', traceparent })).toBe('mine');
  });

  it('else a new one: an unusable header is ignored, never refused', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(correlationIdOf({})).toMatch(uuid);
    expect(correlationIdOf({ 'x-correlation-id': 'has space' })).toMatch(uuid);
    expect(correlationIdOf({ 'x-correlation-id': 'x'.repeat(201) })).toMatch(uuid);
    expect(correlationIdOf({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })).toMatch(uuid);
    expect(correlationIdOf({ traceparent: 'garbage' })).toMatch(uuid);
  });

  it('is what everything awaited while handling the request sees, and only that', async () => {
    expect(currentCorrelationId()).toBeUndefined();
    const seen = await withCorrelationId('req-1', async () => {
      await new Promise((r) => setTimeout(r, 1));
      return requestCorrelationId();
    });
    expect(seen).toBe('req-1');
    expect(requestCorrelationId()).not.toBe('req-1');
  });

  it('is in every line logged while handling the request, after the context', () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const logger = new CorrelatedConsoleLogger({ colors: false });
      logger.log('outside', 'jobs');
      withCorrelationId('order-4711', () => logger.log('inside', 'jobs'));
    } finally {
      write.mockRestore();
    }
    expect(lines[0]).toMatch(/\[jobs\] outside\n$/);
    expect(lines[1]).toMatch(/\[jobs\] \(order-4711\) inside\n$/);
  });
});

describe('CorrelationInterceptor', () => {
  // A request with the client's id, and a handler that answers the id it sees after an await.
  async function handled(interceptor: CorrelationInterceptor) {
    const headers: Record<string, string> = {};
    const context = {
      getType: () => 'http',
      switchToHttp: () => ({
        getRequest: () => ({ headers: { 'x-correlation-id': 'order-4713' } }),
        getResponse: () => ({ header: (name: string, value: string) => (headers[name] = value) }),
      }),
    } as unknown as ExecutionContext;
    const next: CallHandler = {
      handle: () =>
        from(
          (async () => {
            await new Promise((r) => setTimeout(r, 1));
            return currentCorrelationId();
          })(),
        ),
    };
    const seen = await lastValueFrom(interceptor.intercept(context, next));
    return { seen, answered: headers['x-correlation-id'] };
  }

  it("runs the handler in the request's context where the process keeps one (the gateway's)", async () => {
    expect(await handled(new CorrelationInterceptor())).toEqual({
      seen: 'order-4713',
      answered: 'order-4713',
    });
  });

  it('elsewhere answers the id and keeps no context (no promise hooks for the process)', async () => {
    expect(await handled(new CorrelationInterceptor(false))).toEqual({
      seen: undefined,
      answered: 'order-4713',
    });
  });
});
