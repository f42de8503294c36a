import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { Logger } from '@nestjs/common';
import { CLIENT_ADDRESS_HEADER, DIALECTS, LISTENER_HEADER, policyOf } from '@spindle/gateway';
import type { DialectSurface } from '@spindle/gateway';
import {
  applyHttpTimeouts,
  installBrowserSafety,
  installSecurityHeaders,
  internalHeaders,
} from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { warnIfOpenBeyondLoopback } from './exposure';

export interface DialectPort {
  readonly name: string;
  readonly url: string;
  close(): Promise<void>;
}

// Each dialect's clients expect its API at its own paths on a port of its own (Mist: /v2/api on
// 2004). The gateway serves a dialect under /compat/<name>; this listener forwards the system's
// paths there, bodies streamed, WebSockets included, so there is one implementation behind two
// addresses. Forwarded requests say which listener they came in on and from where, with the
// internal token as proof (whatever a client sent in those headers is replaced), so the gateway
// applies this port's policy (`<NAME>_AUTH`) and audits the client's address.
export async function openDialectPort(
  gatewayUrl: string,
  config: SpindleConfig,
  port: number,
  dialect: DialectSurface,
): Promise<DialectPort> {
  const server = Fastify({ forceCloseConnections: true, requestTimeout: config.http.requestTimeoutMs });
  applyHttpTimeouts(server.server, config.http);
  installBrowserSafety(server, config);
  installSecurityHeaders(server);
  const forwarded = (request: { ip: string }, headers: IncomingHttpHeaders): IncomingHttpHeaders => ({
    ...headers,
    ...internalHeaders(config),
    [LISTENER_HEADER]: dialect.name,
    [CLIENT_ADDRESS_HEADER]: request.ip,
  });
  const replyOptions = { rewriteRequestHeaders: forwarded };
  // A WebSocket is opened upstream with the same forwarded headers, and the client's credentials.
  const websocket = dialect.websocket
    ? {
        websocket: true as const,
        // The plugin reads rewriteRequestHeaders here (index.js), which its types leave out.
        wsClientOptions: {
          rewriteRequestHeaders: (headers: Record<string, string>, request: FastifyRequest) => ({
            ...headers,
            ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
            ...forwarded(request, {}),
          }),
        } as object,
      }
    : { websocket: false as const };
  for (const path of dialect.paths)
    await server.register(proxy, {
      upstream: gatewayUrl,
      prefix: path,
      rewritePrefix: `/compat/${dialect.name}${path}`,
      replyOptions,
      ...websocket,
    });
  await server.register(proxy, {
    upstream: gatewayUrl,
    prefix: '/openapi.json',
    rewritePrefix: `/compat/${dialect.name}/openapi.json`,
    replyOptions,
  });
  const url = await server.listen({ port, host: config.host });
  const logger = new Logger(dialect.name);
  const policy = policyOf(config, dialect.name);
  logger.log(`${dialect.banner(url)} (auth: ${policy})`);
  warnIfOpenBeyondLoopback(logger, config.host, policy, `${dialect.name.toUpperCase()}_AUTH`);
  return { name: dialect.name, url, close: () => server.close() };
}

// Every dialect's port, for a process that runs the gateway.
export async function openDialectPorts(gatewayUrl: string, config: SpindleConfig): Promise<DialectPort[]> {
  const opened: DialectPort[] = [];
  try {
    for (const dialect of DIALECTS)
      opened.push(await openDialectPort(gatewayUrl, config, dialect.port(config), dialect));
  } catch (e) {
    await Promise.all(opened.map((p) => p.close()));
    throw e;
  }
  return opened;
}
