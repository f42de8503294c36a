import { logLevel } from 'kafkajs';
import { createLogger } from 'kafkajs/src/loggers';
import RequestQueue from 'kafkajs/src/network/requestQueue';

// kafkajs 2.2.4 checked every in-flight request of a connection for its timeout every 100 ms, for
// as long as the connection lived: a consumer's held fetch is always in flight, so every idle
// connection woke its process ten times a second. `patches/kafkajs+2.2.4.patch` gives each request
// a timer of its own instead, cleared with its answer.
describe('kafkajs request timeouts (patched)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const queueOf = () =>
    new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 30_000,
      enforceRequestTimeout: true,
      clientId: 'spec',
      broker: '127.0.0.1:9092',
      logger: createLogger({ level: logLevel.NOTHING, logCreator: () => () => undefined }),
    });

  const request = (correlationId: number) => {
    const outcome: { answer?: unknown; error?: Error } = {};
    return {
      outcome,
      pushed: {
        entry: {
          correlationId,
          apiKey: 1,
          apiName: 'Fetch',
          apiVersion: 11,
          resolve: (answer: unknown) => (outcome.answer = answer),
          reject: (error: Error) => (outcome.error = error),
        },
        expectResponse: true,
        sendRequest: () => undefined,
        requestTimeout: 31_000,
      },
    };
  };

  it('keeps no timer for a connection with nothing in flight', () => {
    const queue = queueOf();
    queue.scheduleRequestTimeoutCheck();
    const { pushed, outcome } = request(1);
    queue.push(pushed);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(outcome.answer).toBeDefined();
    expect(jest.getTimerCount()).toBe(0);
    queue.destroy();
  });

  it('still fails a request that gets no answer within its timeout, and only that one', () => {
    const queue = queueOf();
    queue.scheduleRequestTimeoutCheck();
    const late = request(1);
    const answered = request(2);
    queue.push(late.pushed);
    queue.push(answered.pushed);
    queue.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    jest.advanceTimersByTime(30_999);
    expect(late.outcome.error).toBeUndefined();
    jest.advanceTimersByTime(2);
    expect(late.outcome.error?.name).toBe('KafkaJSRequestTimeoutError');
    expect(answered.outcome.error).toBeUndefined();
    queue.destroy();
  });
});
