import { Logger } from '@nestjs/common';
import type { ArgumentsHost, CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of } from 'rxjs';
import { CorrelationInterceptor, correlationIdOf, requestCorrelationId } from './correlation';
import { ProblemDetailsFilter } from './problem-details.filter';

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

  it('is settled once per request: every part of its handling that asks gets the same', () => {
    const request: Parameters<typeof requestCorrelationId>[0] = { headers: {} };
    const first = requestCorrelationId(request);
    expect(requestCorrelationId(request)).toBe(first);
    expect(requestCorrelationId({ headers: {} })).not.toBe(first);
    expect(requestCorrelationId({ headers: { 'x-correlation-id': 'order-4712' } })).toBe('order-4712');
  });
});

describe('CorrelationInterceptor', () => {
  function contextOf(request: { headers: Record<string, string> }, answered: Record<string, string>) {
    return {
      getType: () => 'http',
      switchToHttp: () => ({
        getRequest: () => request,
        getResponse: () => ({ header: (name: string, value: string) => (answered[name] = value) }),
      }),
    } as unknown as ExecutionContext;
  }

  it('answers the id the handler then reads from its request, the client’s or a new one', async () => {
    const sent: Record<string, string>[] = [{ 'x-correlation-id': 'order-4713' }, {}];
    for (const headers of sent) {
      const request = { headers };
      const answered: Record<string, string> = {};
      const next: CallHandler = { handle: () => of(requestCorrelationId(request)) };
      const seen = await lastValueFrom(
        new CorrelationInterceptor().intercept(contextOf(request, answered), next),
      );
      expect(seen).toBe(answered['x-correlation-id']);
      if ('x-correlation-id' in headers) expect(seen).toBe('order-4713');
    }
  });
});

describe('an internal error’s log line', () => {
  it('names the request’s correlation id, so a client quoting it leads to the cause', () => {
    const logged: string[] = [];
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
    try {
      const request = { headers: { 'x-correlation-id': 'order-4711' }, method: 'GET', url: '/api/v1/jobs' };
      const reply = { status: () => reply, header: () => reply, send: () => reply };
      const host = {
        switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
      } as unknown as ArgumentsHost;
      new ProblemDetailsFilter().catch(new Error('boom'), host);
    } finally {
      error.mockRestore();
    }
    expect(logged).toEqual(['(order-4711) GET /api/v1/jobs -> 500']);
  });
});
