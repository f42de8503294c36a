import type { PublishedOffset, TopicMessages } from './message-bus';
import { ProduceQueue } from './produce-queue';

// A broker stand-in: records each request (the callers' messages, by value) and answers it when the
// test says so; a caller's offset is its request's number, so a test can tell requests apart.
class FakeBroker {
  readonly requests: string[][] = [];
  private readonly answers: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private answered = 0;
  refuse: (values: string[]) => unknown = () => undefined;

  send = (callers: readonly (readonly TopicMessages[])[]): Promise<(readonly PublishedOffset[])[]> => {
    const values = callers.flatMap((batches) => batches.flatMap((b) => b.messages.map((m) => m.value)));
    const n = this.requests.push(values);
    return new Promise((resolve, reject) => {
      this.answers.push({
        resolve: () =>
          resolve(callers.map(() => [{ topic: 't', topicId: null, partition: 0, offset: String(n) }])),
        reject,
      });
    });
  };

  // Answers the oldest request still open: acknowledged, or failed with what `refuse` says.
  async answer(): Promise<void> {
    await flush();
    const request = this.answers.shift()!;
    const refusal = this.refuse(this.requests[this.answered++]!);
    if (refusal) request.reject(refusal);
    else request.resolve();
    await flush();
  }
}

const flush = () => new Promise((r) => setImmediate(r));
const one = (value: string): TopicMessages[] => [{ topic: 't', messages: [{ key: 'k', value }] }];

describe('ProduceQueue', () => {
  let broker: FakeBroker;
  let queue: ProduceQueue;

  beforeEach(() => {
    broker = new FakeBroker();
    queue = new ProduceQueue({
      send: broker.send,
      maxBytes: 100,
    });
  });

  it('sends a publish made while nothing is in flight at once, with those made in the same turn', async () => {
    const published = queue.publish(one('a'));
    const sameTurn = queue.publish(one('b'));
    await flush();
    expect(broker.requests).toEqual([['a', 'b']]);
    await broker.answer();
    await expect(published).resolves.toEqual([{ topic: 't', topicId: null, partition: 0, offset: '1' }]);
    await expect(sameTurn).resolves.toEqual([{ topic: 't', topicId: null, partition: 0, offset: '1' }]);
  });

  it('sends the publishes made while a request is in flight together, in their order, in the next request', async () => {
    const first = queue.publish(one('a'));
    await flush();
    const later = [queue.publish(one('b')), queue.publish(one('c')), queue.publish(one('d'))];
    await flush();
    expect(broker.requests).toEqual([['a']]); // one request in flight at a time
    await broker.answer();
    expect(broker.requests).toEqual([['a'], ['b', 'c', 'd']]);
    await broker.answer();
    expect((await first)[0]!.offset).toBe('1');
    for (const p of later) expect((await p)[0]!.offset).toBe('2');
  });

  it('starts another request where the waiting messages would pass maxBytes; a larger caller goes alone', async () => {
    void queue.publish(one('a'));
    await flush();
    const big = 'x'.repeat(60);
    const huge = 'y'.repeat(150);
    const later = [big, big, 'e', huge, 'f'].map((v) => queue.publish(one(v)));
    for (let i = 0; i < 5; i++) await broker.answer();
    await Promise.all(later);
    // 61 + 61 bytes would pass 100: the second big one starts the next request, 'e' joins it.
    expect(broker.requests).toEqual([['a'], [big], [big, 'e'], [huge], ['f']]);
  });

  it('fails every caller of a failed request, without sending them again, and goes on', async () => {
    void queue.publish(one('a'));
    await flush();
    const waiting = Promise.allSettled([queue.publish(one('b')), queue.publish(one('c'))]);
    broker.refuse = (values) => (values.includes('b') ? new Error('connection closed') : undefined);
    await broker.answer();
    await broker.answer();
    for (const outcome of await waiting)
      expect(outcome).toEqual({ status: 'rejected', reason: new Error('connection closed') });
    expect(broker.requests).toEqual([['a'], ['b', 'c']]);
    // The queue goes on: the next publish is sent.
    broker.refuse = () => undefined;
    const next = queue.publish(one('d'));
    await broker.answer();
    await expect(next).resolves.toHaveLength(1);
  });
});
