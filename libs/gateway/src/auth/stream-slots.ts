import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { API_LISTENER } from './listener';
import { ANONYMOUS } from './principal';

declare module 'fastify' {
  interface FastifyRequest {
    // The listener the request came in on, settled by the guard (a dialect port's name, or api).
    spindleListener?: string;
  }
}

// Long-lived answers (SSE streams, followed logs, Mist's WebSockets) each hold a connection and a
// feed subscription for as long as the client likes: each listener holds at most
// SPINDLE_MAX_STREAMS_PER_LISTENER of them (503 beyond, with Retry-After), and each API key at most
// SPINDLE_MAX_STREAMS_PER_KEY (429), so one client cannot take every slot. On an `open` listener a
// client is its address.
@Injectable()
export class StreamSlots {
  private readonly byListener = new Map<string, number>();
  private readonly byHolder = new Map<string, number>();

  constructor(@Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig) {}

  // Takes a slot for the request, or refuses naming the limit. The returned function gives it back
  // (once, however often it is called).
  take(request: FastifyRequest): () => void {
    const listener = request.spindleListener ?? API_LISTENER;
    const principal = request.spindlePrincipal ?? ANONYMOUS;
    const holder = `${listener}\n${principal === ANONYMOUS ? `address ${request.ip}` : `key ${principal.keyId}`}`;
    const { perListener, perKey } = this.config.streams;
    if ((this.byListener.get(listener) ?? 0) >= perListener)
      throw limitReached(
        HttpStatus.SERVICE_UNAVAILABLE,
        'SPINDLE_MAX_STREAMS_PER_LISTENER',
        `this listener (${listener}) already serves ${perListener} streams, its limit (SPINDLE_MAX_STREAMS_PER_LISTENER); try again later`,
      );
    if ((this.byHolder.get(holder) ?? 0) >= perKey)
      throw limitReached(
        HttpStatus.TOO_MANY_REQUESTS,
        'SPINDLE_MAX_STREAMS_PER_KEY',
        `${principal === ANONYMOUS ? `address ${request.ip}` : `API key ${principal.keyId}`} already holds ${perKey} open streams on ${listener}, its limit (SPINDLE_MAX_STREAMS_PER_KEY); close one first`,
      );
    bump(this.byListener, listener, 1);
    bump(this.byHolder, holder, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      bump(this.byListener, listener, -1);
      bump(this.byHolder, holder, -1);
    };
  }

  // For a stream answered on the request's own connection: the slot is given back when it closes.
  hold(request: FastifyRequest): void {
    const release = this.take(request);
    request.raw.once('close', release);
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

function limitReached(status: HttpStatus, limit: string, message: string): ProblemException {
  return new ProblemException(
    status,
    'stream-limit',
    status === HttpStatus.TOO_MANY_REQUESTS ? 'Too Many Requests' : 'Service Unavailable',
    message,
    [{ field: 'connection', rule: limit, message }],
  );
}
