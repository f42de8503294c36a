import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { ApiScope } from '@spindle/contracts';
import { InternalOnlyGuard } from './internal-only.guard';

// Who may call a route, declared on it (or its controller). Every HTTP route of a process that
// runs the gateway must declare one: the gateway's guard refuses a route that does not, and the
// security suite lists every route and fails on one without (so a new route cannot be forgotten).
export type RouteAccess =
  | { readonly kind: 'scope'; readonly scope: ApiScope }
  | { readonly kind: 'public' }
  | { readonly kind: 'internal' };

export const ROUTE_ACCESS_KEY = 'spindle:route-access';

// Anyone who can connect (liveness probes).
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(ROUTE_ACCESS_KEY, { kind: 'public' } satisfies RouteAccess);
}

// Spindle's own services only: the per-installation internal token, never an API key.
export function InternalRoute(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS_KEY, { kind: 'internal' } satisfies RouteAccess),
    UseGuards(InternalOnlyGuard),
  );
}

export const ROUTE_SCOPE_EXTENSION = 'x-spindle-scope';
// The security schemes every OpenAPI document declares (Swagger UI's Authorize offers both).
export const BEARER_SCHEME = 'bearer';
export const BASIC_SCHEME = 'basic';

// A key with this scope (or an `open` listener). The OpenAPI document says so: the security
// requirement, the scope as an extension, and the 401 and 403 answers.
export function RequiresScope(scope: ApiScope): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS_KEY, { kind: 'scope', scope } satisfies RouteAccess),
    ApiBearerAuth(BEARER_SCHEME),
    ApiSecurity(BASIC_SCHEME),
    ApiExtension(ROUTE_SCOPE_EXTENSION, scope),
    ApiResponse({ status: 401, description: 'No API key, or one that is unknown, revoked or expired' }),
    ApiResponse({ status: 403, description: `The API key lacks the \`${scope}\` scope` }),
  );
}
