import type { PublishedOffset, TopicMessages } from './message-bus';

// What a queue sends: a topic's messages, weighed by their keys and values (the bus's own
// TopicMessages, or a kafkajs ProducerRecord's, as Nest's Kafka transport writes them).
export interface SizedTopicMessages {
  readonly messages: readonly {
    readonly key?: string | Buffer | null;
    readonly value: string | Buffer | null;
  }[];
}

// One caller's publish, waiting for its turn.
interface Waiting<B, R> {
  readonly batches: readonly B[];
  readonly bytes: number;
  readonly resolve: (answer: R) => void;
  readonly reject: (e: unknown) => void;
}

export interface ProduceQueueOptions<B extends SizedTopicMessages, R> {
  // Sends several callers' messages in one produce request, in the callers' order, and answers
  // each caller (the bus: its own offsets, the last offset of its messages in each partition it
  // wrote).
  readonly send: (callers: readonly (readonly B[])[]) => Promise<R[]>;
  // A request takes callers while their messages stay within this many bytes; a caller of more
  // goes alone. Below the broker's bound on a partition's part of a request (message.max.bytes),
  // so a request refused as too large holds one caller alone.
  readonly maxBytes: number;
}

// One produce request in flight per process, and every publish made meanwhile goes out in the next
// one, together: what the Java producer's accumulator does, which kafkajs lacks. The bus's
// producer is idempotent with one request in flight (no reordering on retries), so before, each
// publish was a request of its own, queued behind all earlier ones: under a submit load the
// gateway's audit records (one a request) kept the scheduler's relay waiting behind 30-40 of them,
// 0.3-1.9 s for a batch that alone takes 3-40 ms. A publish made while nothing is in flight is
// sent at once (with those made in the same turn of the event loop): nothing waits for a batch to
// fill.
//
// Order is kept: callers' messages are appended in the order they called, so within a partition
// they land as they would have one request at a time. A caller is answered once its own messages
// are acknowledged, and a failed request fails each of its callers, who retry as they would have
// (a relay its rows, a heartbeat at the next beat). Not sent again here: kafkajs takes back the
// sequence numbers of a whole failed request, also of partitions the broker appended, so sending
// part of it again would be refused as out of sequence.
export class ProduceQueue<B extends SizedTopicMessages = TopicMessages, R = readonly PublishedOffset[]> {
  private readonly waiting: Waiting<B, R>[] = [];
  private sending = false;

  constructor(private readonly options: ProduceQueueOptions<B, R>) {}

  publish(batches: readonly B[]): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batches, bytes: bytesOf(batches), resolve, reject });
      if (this.sending) return;
      this.sending = true;
      // After the current task: publishes made in the same turn (a burst of callers) share it.
      queueMicrotask(() => void this.sendWaiting());
    });
  }

  private async sendWaiting(): Promise<void> {
    try {
      while (this.waiting.length > 0) await this.send(this.nextRequest());
    } finally {
      this.sending = false;
    }
  }

  private nextRequest(): Waiting<B, R>[] {
    let bytes = 0;
    let count = 0;
    while (count < this.waiting.length) {
      const next = this.waiting[count]!.bytes;
      if (count > 0 && bytes + next > this.options.maxBytes) break;
      bytes += next;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async send(callers: readonly Waiting<B, R>[]): Promise<void> {
    try {
      const offsets = await this.options.send(callers.map((c) => c.batches));
      callers.forEach((c, i) => c.resolve(offsets[i]!));
    } catch (e) {
      for (const caller of callers) caller.reject(e);
    }
  }
}

function bytesOf(batches: readonly SizedTopicMessages[]): number {
  let bytes = 0;
  for (const batch of batches)
    for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
  return bytes;
}
