import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationProblem } from '@spindle/platform';
import type { FeedEntryView } from '@spindle/read-models';
import type { FeedHub } from './feed-hub';

const KEEP_ALIVE_MS = 15_000;

export interface SseMessage {
  readonly id: string; // the feed sequence: Last-Event-ID resumes after it
  readonly event: string;
  readonly data: unknown;
}

// What each feed entry becomes on a stream: a message, or null when the stream does not want it.
// May read (a dialect's whole object per change); messages still go out in feed order.
export type FeedRender = (entry: FeedEntryView) => SseMessage | null | Promise<SseMessage | null>;

export interface FeedStreamEnding {
  // The entry after which the stream ends (a job's final one).
  readonly last?: (entry: FeedEntryView) => boolean;
  // Where the recorded entries come from (default: the whole feed).
  readonly history?: (after: string) => Promise<FeedEntryView[]>;
  // Asked once history is delivered: is there nothing more to wait for?
  readonly over?: () => Promise<boolean>;
}

// The change feed as Server-Sent Events, for every API that streams it (the native `/events`,
// Ilum's `/job/updates`): what is recorded after `after`, then live entries, each once and in
// order; a comment line every 15 s keeps idle connections open.
export async function streamFeed(
  hub: FeedHub,
  request: FastifyRequest,
  reply: FastifyReply,
  after: string | null,
  render: FeedRender,
  ending: FeedStreamEnding = {},
): Promise<void> {
  const { last = () => false, history, over } = ending;
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  out.write(': stream open\n\n');
  let closed = false;
  let unsubscribe: () => void = () => undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unsubscribe();
    out.end();
  };
  const fail = (e: unknown): void => {
    if (closed) return;
    out.write(
      `event: error\ndata: ${JSON.stringify({ message: e instanceof Error ? e.message : String(e) })}\n\n`,
    );
    close();
  };
  const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  request.raw.on('close', close);
  const send = (entry: FeedEntryView, message: SseMessage | null): void => {
    if (closed || message === null) return;
    out.write(`id: ${message.id}\nevent: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`);
    if (last(entry)) close();
  };
  // Renders that read run one after another, so messages keep the feed's order.
  let queue: Promise<void> = Promise.resolve();
  try {
    unsubscribe = await hub.subscribe(
      after,
      (entry) => {
        if (closed) return;
        const rendered = render(entry);
        if (!(rendered instanceof Promise)) {
          queue = queue.then(() => send(entry, rendered));
          return;
        }
        queue = queue.then(async () => send(entry, await rendered)).catch(fail);
      },
      history,
    );
    await queue;
    // History came and went without the last entry: the stream may be over already.
    if (!closed && over && (await over())) close();
  } catch (e) {
    fail(e);
  }
  if (closed) unsubscribe();
}

export function resumePoint(header: string | undefined, query: string | undefined): string | null {
  const value = header ?? query;
  if (value === undefined || value === '') return null;
  if (!/^\d{1,19}$/.test(value)) {
    throw new ValidationProblem([
      {
        field: 'Last-Event-ID',
        rule: 'isEventId',
        message: 'Last-Event-ID must be an event id from this stream',
      },
    ]);
  }
  return value;
}
