import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const INTERNAL_PREFIX = '/internal/';
const internalRequests = new WeakSet<IncomingMessage>();

// The public port answers no /internal/* route as if it did not exist, whatever the caller sends.
export function hideInternalRoutes(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith(INTERNAL_PREFIX) && !internalRequests.has(request.raw))
        return reply
          .code(404)
          .header('content-type', 'application/problem+json')
          .send({
            type: 'about:blank',
            title: 'Not Found',
            status: 404,
            detail: `${request.url.split('?')[0]} is not a route of this port`,
          });
    });
}

// The same application on a second listener bound to loopback only, for the service-to-service
// routes of a process that also serves the public API (standalone). Its routes still ask for the
// internal token: loopback is every job on this host too.
export async function openInternalListener(
  app: NestFastifyApplication,
  listenPort = 0,
): Promise<{ url: string; close(): Promise<void> }> {
  const fastify = app.getHttpAdapter().getInstance();
  const server = createServer((request, response) => {
    internalRequests.add(request);
    fastify.routing(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
