import fastifyWebsocket from '@fastify/websocket';
import type { WebSocket } from '@fastify/websocket';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JOB_ID_PATTERN, isJobEventType } from '@spindle/contracts';
import { FeedQuery } from '@spindle/read-models';
import type { FeedEntryView } from '@spindle/read-models';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException } from '@spindle/platform';
import { ApiKeyGuard } from '../../auth/api-key.guard';
import { StreamSlots } from '../../auth/stream-slots';
import { FeedHub } from '../../events/feed-hub';
import { LogCollectorClient } from '../../logs/log-collector.client';
import { mistEventsOf, mistLogsEvents } from './mist-events';
import type { MistEvent } from './mist-events';
import { MIST_PREFIX } from './mist-query';

const KEEP_ALIVE_MS = 60_000; // Mist's ws-keepalive-tick
const LOG_POLL_MS = 500;

// Registers the WebSocket plugin; call before the app initialises.
export async function registerMistWebSocketPlugin(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyWebsocket);
}

// Mist's reactive API: /ws/all (every job's events from now on) and /ws/jobs/{id} (one job's,
// from its beginning), `withLogs=true` adding `logs` events for a single job. Client messages are
// ignored, as Mist does; a keep-alive goes out every minute.
export function mountMistWebSockets(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const hub = app.get(FeedHub);
  const feed = app.get(FeedQuery);
  const logs = app.get(LogCollectorClient);
  const guard = app.get(ApiKeyGuard);
  const slots = app.get(StreamSlots);
  // A socket's stream slot, taken before the upgrade and given back when the socket closes.
  const releases = new WeakMap<object, () => void>();
  const holdUntilClosed = (socket: WebSocket, request: FastifyRequest) => {
    const release = releases.get(request.raw);
    if (release) socket.once('close', release);
  };
  // Outside Nest's routing, so the guard is asked here: a `read` key, before the upgrade; then a
  // stream slot (StreamSlots), so a refusal is an HTTP answer naming the limit.
  const preValidation = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await guard.authorize(request, reply, 'read');
      releases.set(request.raw, slots.take(request));
    } catch (e) {
      if (!(e instanceof ProblemException)) throw e;
      return reply.code(e.getStatus()).header('content-type', 'text/plain; charset=utf-8').send(e.message);
    }
  };

  fastify.get(`/${MIST_PREFIX}/ws/all`, { websocket: true, preValidation }, (socket: WebSocket, request) => {
    holdUntilClosed(socket, request);
    void follow(socket, hub, null, () => true);
  });

  fastify.get<{ Params: { id: string }; Querystring: { withLogs?: string } }>(
    `/${MIST_PREFIX}/ws/jobs/:id`,
    { websocket: true, preValidation },
    (socket: WebSocket, request) => {
      holdUntilClosed(socket, request);
      const id = request.params.id;
      if (!JOB_ID_PATTERN.test(id)) {
        socket.close(1008, `Job ${id} not found`);
        return;
      }
      void follow(
        socket,
        hub,
        '0',
        (e) => e.subjectId === id,
        (after) => feed.after(after, 1_000, id),
      );
      if (request.query.withLogs === 'true') followLogs(socket, logs, id);
    },
  );
}

async function follow(
  socket: WebSocket,
  hub: FeedHub,
  after: string | null,
  wanted: (entry: FeedEntryView) => boolean,
  history?: (after: string) => Promise<FeedEntryView[]>,
): Promise<void> {
  const send = (event: MistEvent | { event: string }): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
  };
  const keepAlive = setInterval(() => send({ event: 'keep-alive' }), KEEP_ALIVE_MS);
  let unsubscribe: () => void = () => undefined;
  socket.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
  unsubscribe = await hub.subscribe(
    after,
    (entry) => {
      if (entry.kind !== 'job' || !isJobEventType(entry.type) || !wanted(entry)) return;
      const events = mistEventsOf({
        type: entry.type,
        data: entry.data,
        occurredAt: entry.occurredAt,
        function: entry.function,
        context: entry.context,
      });
      for (const event of events) send(event);
    },
    history,
  );
  if (socket.readyState !== socket.OPEN) unsubscribe();
}

// `logs` events: the lines written since the last one, and the byte length of the log so far.
function followLogs(socket: WebSocket, logs: LogCollectorClient, id: string): void {
  let next = 1;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const page = await logs.lines(id, next, 5_000);
        if (page.items.length === 0 || socket.readyState !== socket.OPEN) return;
        next = page.next;
        const first = page.items[0]!;
        for (const event of mistLogsEvents(id, { line: first.line, byte: first.offset }, page.items))
          socket.send(JSON.stringify(event));
      } catch {
        // the collector is away for a moment: try again at the next tick
      } finally {
        busy = false;
      }
    })();
  }, LOG_POLL_MS);
  socket.on('close', () => clearInterval(timer));
}
