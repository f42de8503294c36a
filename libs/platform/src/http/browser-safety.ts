import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SpindleConfig } from '../config/spindle-config';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from './problem-details';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// What a web page in someone's browser must not be able to do to a Spindle it can reach:
// - DNS rebinding: a page on evil.example re-points its name at 127.0.0.1 and calls Spindle as
//   "its own" origin. Its requests carry `Host: evil.example`: only known names are answered
//   (IP literals, localhost, SPINDLE_HOST, this machine's name, SPINDLE_ALLOWED_HOSTS).
// - CSRF: a page posts a form (multipart needs no preflight) or a no-cors JSON body. Browsers
//   say where a write comes from (`Origin`, `Sec-Fetch-Site`): a write from another origin is
//   refused unless SPINDLE_CORS_ORIGINS names it. Clients that are not browsers send neither.
// Installed on every listener (the main port and each dialect port) before any route runs.
export function installBrowserSafety(server: FastifyInstance, config: SpindleConfig): void {
  const names = allowedHostNames(config);
  server.addHook('onRequest', async (request, reply) => {
    const host = hostOf(request.headers.host);
    if (!names.any && (host === undefined || !(isIP(host) !== 0 || names.set.has(host))))
      return refuse(reply, request, 421, 'host-not-allowed', 'Misdirected Request', {
        field: 'Host',
        rule: 'allowedHost',
        message: `Host ${String(request.headers.host ?? '(none)')} is not one of this server's names (SPINDLE_ALLOWED_HOSTS)`,
      });
    if (SAFE_METHODS.has(request.method)) return;
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const sameOrigin =
      origin === undefined
        ? site === undefined || site === 'same-origin' || site === 'none'
        : originHost(origin) === request.headers.host?.toLowerCase();
    if (sameOrigin || (origin !== undefined && config.auth.corsOrigins.includes(origin))) return;
    return refuse(reply, request, 403, 'cross-origin', 'Forbidden', {
      field: 'Origin',
      rule: 'sameOrigin',
      message: `a write from ${origin ?? `a ${String(site)} page`} is refused: only this server's own pages and SPINDLE_CORS_ORIGINS may write`,
    });
  });
}

function allowedHostNames(config: SpindleConfig): { any: boolean; set: Set<string> } {
  const configured = config.auth.allowedHosts;
  return {
    any: configured.includes('*'),
    set: new Set(['localhost', config.host.toLowerCase(), hostname().toLowerCase(), ...configured]),
  };
}

// The name in a Host header, without its port or an IPv6 literal's brackets.
function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.replace(/:\d+$/, '').replace(/\.$/, '');
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

function refuse(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  type: string,
  title: string,
  error: { field: string; rule: string; message: string },
) {
  return reply
    .code(status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send({
      type: PROBLEM_TYPE_BASE + type,
      title,
      status,
      detail: error.message,
      instance: request.url.split('?')[0],
      errors: [error],
    });
}
