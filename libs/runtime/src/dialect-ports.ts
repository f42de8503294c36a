import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { Logger } from '@nestjs/common';
import { DIALECTS } from '@spindle/gateway';
import type { DialectSurface } from '@spindle/gateway';
import type { SpindleConfig } from '@spindle/platform';

export interface DialectPort {
  readonly name: string;
  readonly url: string;
  close(): Promise<void>;
}

// Each dialect's clients expect its API at its own paths on a port of its own (Mist: /v2/api on
// 2004). The gateway serves a dialect under /compat/<name>; this listener forwards the system's
// paths there, bodies streamed, WebSockets included, so there is one implementation behind two
// addresses.
export async function openDialectPort(
  gatewayUrl: string,
  host: string,
  port: number,
  dialect: DialectSurface,
): Promise<DialectPort> {
  const server = Fastify({ forceCloseConnections: true });
  for (const path of dialect.paths)
    await server.register(proxy, {
      upstream: gatewayUrl,
      prefix: path,
      rewritePrefix: `/compat/${dialect.name}${path}`,
      websocket: dialect.websocket ?? false,
    });
  await server.register(proxy, {
    upstream: gatewayUrl,
    prefix: '/openapi.json',
    rewritePrefix: `/compat/${dialect.name}/openapi.json`,
  });
  const url = await server.listen({ port, host });
  new Logger(dialect.name).log(dialect.banner(url));
  return { name: dialect.name, url, close: () => server.close() };
}

// Every dialect's port, for a process that runs the gateway.
export async function openDialectPorts(gatewayUrl: string, config: SpindleConfig): Promise<DialectPort[]> {
  const opened: DialectPort[] = [];
  try {
    for (const dialect of DIALECTS)
      opened.push(await openDialectPort(gatewayUrl, config.host, dialect.port(config), dialect));
  } catch (e) {
    await Promise.all(opened.map((p) => p.close()));
    throw e;
  }
  return opened;
}
