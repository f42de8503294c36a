import { Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ilumStatusOf } from './ilum-errors.filter';

const ILUM_PATHS = '/compat/ilum/';

// Fastify refuses a body it cannot parse (not JSON, too large) before any Nest filter runs, so
// IlumErrorsFilter never sees it. This hook gives those answers Ilum's shape too: 409 `{message}`.
@Injectable()
export class IlumBodyErrorsHook implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onSend', (request, reply, payload, done) => {
      const status = reply.statusCode;
      if (!request.url.startsWith(ILUM_PATHS) || status < 400 || status >= 500 || status === 404) {
        done(null, payload);
        return;
      }
      if (status === ilumStatusOf(status) && typeof payload === 'string' && isIlumError(payload)) {
        done(null, payload);
        return;
      }
      let message = 'invalid request';
      if (typeof payload === 'string') {
        try {
          const parsed = JSON.parse(payload) as { message?: unknown; detail?: unknown };
          if (typeof parsed.detail === 'string') message = parsed.detail;
          else if (typeof parsed.message === 'string') message = parsed.message;
        } catch {
          // not JSON: keep the generic message
        }
      }
      void reply.status(ilumStatusOf(status)).header('content-type', 'application/json');
      done(null, JSON.stringify({ message }));
    });
  }
}

function isIlumError(payload: string): boolean {
  try {
    const parsed = JSON.parse(payload) as Record<string, unknown>;
    return Object.keys(parsed).length === 1 && typeof parsed['message'] === 'string';
  } catch {
    return false;
  }
}
