import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { Logger } from '@nestjs/common';

export interface MistPort {
  readonly url: string;
  close(): Promise<void>;
}

// Hydrosphere Mist clients expect /v2/api on a port of its own (2004). The gateway serves the
// dialect under /compat/mist/v2/api; this listener forwards Mist's paths there, bodies streamed,
// WebSockets included, so there is one implementation behind two addresses.
export async function openMistPort(gatewayUrl: string, host: string, port: number): Promise<MistPort> {
  const server = Fastify({ forceCloseConnections: true });
  await server.register(proxy, {
    upstream: gatewayUrl,
    prefix: '/v2/api',
    rewritePrefix: '/compat/mist/v2/api',
    websocket: true,
  });
  await server.register(proxy, {
    upstream: gatewayUrl,
    prefix: '/openapi.json',
    rewritePrefix: '/compat/mist/openapi.json',
  });
  const url = await server.listen({ port, host });
  new Logger('mist').log(`Mist API v2 on ${url}/v2/api`);
  return { url, close: () => server.close() };
}
