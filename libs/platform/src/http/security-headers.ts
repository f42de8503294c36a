import helmet from 'helmet';
import type { FastifyInstance } from 'fastify';

// Security headers on every answer of every listener (helmet's defaults, adjusted below): the
// HTML pages (Swagger UI on the native port, each dialect's /compat/<name>/docs) cannot be framed
// by another site (clickjacking), run no script that is not served by this server, and no answer
// is sniffed into another content type.
// - scripts: only this server's files. Swagger UI as @nestjs/swagger serves it loads its bundle
//   and its init script as files, so no inline script is needed.
// - styles: 'unsafe-inline' stays (helmet's default): the page has a <style> block and Swagger
//   UI sets style attributes; a style cannot run code.
// - images: data: URLs are Swagger UI's icons. Swagger UI's validator badge (an image from
//   validator.swagger.io) is turned off where the page is mounted, so no outside host is needed.
// - no `upgrade-insecure-requests` and no HSTS: Spindle speaks plain HTTP (docs/security.md:
//   TLS is a reverse proxy's job, which sets HSTS itself); upgrading would break the page when it
//   is reached by plain HTTP on an address other than localhost.
export const SECURITY_HEADERS = {
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
      'font-src': ["'self'", 'data:'],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'upgrade-insecure-requests': null,
    },
  },
  frameguard: { action: 'deny' as const },
  strictTransportSecurity: false,
  referrerPolicy: { policy: 'no-referrer' as const },
};

// Built once: a policy helmet refuses fails at start. (@fastify/helmet built helmet's middleware
// anew for every request, parsing the policy each time: 1.7 % of the control process's CPU under
// a submit load.) Since helmet 8.1 the middleware calls `next` with no error: it throws instead.
const applySecurityHeaders = helmet(SECURITY_HEADERS);

export function installSecurityHeaders(server: FastifyInstance): void {
  server.addHook('onRequest', (request, reply, done) =>
    applySecurityHeaders(request.raw, reply.raw, () => done()),
  );
}
