import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { DataTopics } from '@spindle/contracts';
import type { ApiScope, AuditRecord } from '@spindle/contracts';
import {
  ProblemException,
  ROUTE_ACCESS_KEY,
  SPINDLE_CONFIG,
  carriesInternalToken,
  requestCorrelationId,
} from '@spindle/platform';
import type { AuthPolicy, RouteAccess, SpindleConfig } from '@spindle/platform';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { API_LISTENER, CLIENT_ADDRESS_HEADER, LISTENER_HEADER } from './listener';
import { ANONYMOUS } from './principal';
import type { Principal } from './principal';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const CHALLENGE = 'Bearer realm="spindle", Basic realm="spindle"';

declare module 'fastify' {
  interface FastifyRequest {
    spindlePrincipal?: Principal;
  }
}

// Every HTTP route of the gateway's process declares who may call it (RequiresScope,
// PublicRoute, InternalRoute); a route that declares nothing is refused, never let through. On a
// `keys` listener a scoped route needs `Authorization: Bearer <key>` (or basic auth with the key
// as password, for clients that can only send that) with the route's scope; on an `open`
// listener anyone may call it. Writes are audited on spindle.gateway.audit.v1.
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly logger = new Logger('auth');

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: ApiKeyAuthenticator,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    if (!access)
      throw new ProblemException(
        HttpStatus.FORBIDDEN,
        'route-without-access',
        'Forbidden',
        'this route declares no access rule, so nobody may call it',
      );
    if (access.kind !== 'scope') return true;
    await this.authorize(request, reply, access.scope);
    return true;
  }

  // For routes outside Nest's routing (Mist's WebSockets) as for the rest: who the request acts as,
  // or a ProblemException (401, 403) saying why not.
  async authorize(request: FastifyRequest, reply: FastifyReply, scope: ApiScope): Promise<Principal> {
    const listener = this.listenerOf(request);
    const principal =
      policyOf(this.config, listener) === 'open' ? ANONYMOUS : await this.principalOf(request, reply);
    if (principal !== ANONYMOUS && !principal.scopes.includes(scope)) {
      const message = `this route needs the \`${scope}\` scope; API key ${principal.keyId} (${principal.name}) has ${principal.scopes.join(', ') || 'none'}`;
      throw new ProblemException(HttpStatus.FORBIDDEN, 'forbidden', 'Forbidden', message, [
        { field: 'Authorization', rule: 'scope', message },
      ]);
    }
    request.spindlePrincipal = principal;
    request.spindleListener = listener;
    if (!SAFE_METHODS.has(request.method)) this.auditOnFinish(request, reply, principal, listener);
    return principal;
  }

  private async principalOf(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const key = presentedKey(request.headers.authorization);
    const refused = (reason: string) => {
      void reply.header('www-authenticate', CHALLENGE);
      return new ProblemException(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Unauthorized', reason, [
        { field: 'Authorization', rule: 'apiKey', message: reason },
      ]);
    };
    if (key === undefined)
      throw refused(
        'an API key is required: send Authorization: Bearer <key> (or basic auth with the key as password)',
      );
    const result = await this.authenticator.authenticate(key, new Date());
    if (!result.ok) throw refused(result.reason);
    return result.principal;
  }

  // Trusted only from a dialect port of this installation (it carries the internal token).
  private listenerOf(request: FastifyRequest): string {
    const named = request.headers[LISTENER_HEADER];
    return typeof named === 'string' && carriesInternalToken(request.headers, this.config)
      ? named
      : API_LISTENER;
  }

  private auditOnFinish(
    request: FastifyRequest,
    reply: FastifyReply,
    principal: Principal,
    listener: string,
  ) {
    const address = clientAddressOf(request, listener);
    reply.raw.once('finish', () => {
      const record: AuditRecord = {
        at: new Date().toISOString(),
        keyId: principal.keyId,
        keyName: principal.name,
        method: request.method,
        path: request.url.split('?')[0]!,
        status: reply.statusCode,
        address,
        listener,
        // Settled on the request by now (requestCorrelationId): the id its events carry.
        correlationId: requestCorrelationId(request),
      };
      this.bus
        .publish([
          { topic: DataTopics.audit, messages: [{ key: principal.keyId, value: JSON.stringify(record) }] },
        ])
        .catch((e: unknown) =>
          this.logger.warn(`audit record not published: ${e instanceof Error ? e.message : String(e)}`),
        );
    });
  }
}

// Where a request came from: the client's address as its dialect port saw it (a port forwards
// with the internal token, so the listener is trusted), else the connection's.
export function clientAddressOf(
  request: FastifyRequest,
  listener = request.spindleListener ?? API_LISTENER,
): string {
  const forwarded = request.headers[CLIENT_ADDRESS_HEADER];
  return listener !== API_LISTENER && typeof forwarded === 'string' ? forwarded : request.ip;
}

export function policyOf(config: SpindleConfig, listener: string): AuthPolicy {
  if (listener === API_LISTENER) return config.auth.api;
  return config.auth.dialects[listener] ?? config.auth.dialectDefault;
}

// The key from `Bearer <key>`, or the password (else the user name) of `Basic <base64>`.
export function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (scheme!.toLowerCase() === 'bearer') return value;
  if (scheme!.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return decoded || undefined;
  return decoded.slice(colon + 1) || decoded.slice(0, colon) || undefined;
}
