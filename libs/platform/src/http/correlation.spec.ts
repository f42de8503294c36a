import {
  CorrelatedConsoleLogger,
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
