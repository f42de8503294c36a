import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  CORRELATION_ID_HEADER,
  SECRETS_INTERNAL_BASE,
  SECRET_PRINCIPAL_HEADER,
  SECRET_SOURCE_HEADER,
} from '@spindle/contracts';
import type { SecretPage, SecretSummary, SecretWithValues } from '@spindle/contracts';
import { ProblemException, SPINDLE_CONFIG, internalHeaders, requestCorrelationId } from '@spindle/platform';
import type { ProblemDetails, SpindleConfig } from '@spindle/platform';
import { clientAddressOf } from '../auth/api-key.guard';
import { ANONYMOUS } from '../auth/principal';

// Who asked, passed on for the secrets service's audit events: the API key the request acts as
// (its id), where it came from, and its correlation id.
export interface Caller {
  readonly principal: string;
  readonly source: string;
  readonly correlationId: string;
}

// The caller of a request the key guard let through (a read of values is audited here only: the
// guard's own audit records writes).
export function callerOf(request: FastifyRequest): Caller {
  return {
    principal: (request.spindlePrincipal ?? ANONYMOUS).keyId,
    source: clientAddressOf(request),
    correlationId: requestCorrelationId(request),
  };
}

// The secrets service's internal routes: the secrets service owns the values and the list, and is
// the only one that holds plaintext at rest. Its refusals come back as the same problem documents.
@Injectable()
export class SecretsClient {
  constructor(@Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig) {}

  async list(limit: number, after: string | null): Promise<SecretPage> {
    const query = `?limit=${limit}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`;
    return (await this.call('GET', query, undefined)).json() as Promise<SecretPage>;
  }

  async write(
    id: string,
    values: Record<string, string>,
    caller: Caller,
  ): Promise<{ created: boolean; secret: SecretSummary }> {
    const response = await this.call('PUT', `/${encodeURIComponent(id)}`, caller, { values });
    return { created: response.status === 201, secret: (await response.json()) as SecretSummary };
  }

  async read(id: string, caller: Caller): Promise<SecretWithValues> {
    return (
      await this.call('GET', `/${encodeURIComponent(id)}/values`, caller)
    ).json() as Promise<SecretWithValues>;
  }

  async remove(id: string, caller: Caller): Promise<void> {
    await this.call('DELETE', `/${encodeURIComponent(id)}`, caller);
  }

  private async call(
    method: string,
    path: string,
    caller: Caller | undefined,
    body?: unknown,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      ...internalHeaders(this.config),
      ...(caller
        ? {
            [SECRET_PRINCIPAL_HEADER]: caller.principal,
            [SECRET_SOURCE_HEADER]: caller.source,
            [CORRELATION_ID_HEADER]: caller.correlationId,
          }
        : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    let response: Response;
    try {
      response = await fetch(`${this.config.urls.secrets}${SECRETS_INTERNAL_BASE}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw unavailable(e instanceof Error ? e.message : String(e));
    }
    if (response.ok) return response;
    // Its guard refusing the gateway, or its own failure: an outage, not the client's doing.
    if (response.status === 401 || response.status === 403 || response.status >= 500) {
      await response.body?.cancel();
      throw unavailable(`it answered ${response.status}`);
    }
    const problem = (await response.json().catch(() => ({}))) as Partial<ProblemDetails>;
    throw new ProblemException(
      response.status,
      (problem.type ?? '').split('/').pop() || 'secrets',
      problem.title ?? 'Refused',
      problem.detail ?? `the secrets service answered ${response.status}`,
      problem.errors,
    );
  }
}

function unavailable(detail: string): ProblemException {
  return new ProblemException(
    HttpStatus.SERVICE_UNAVAILABLE,
    'owner-unavailable',
    'Service Unavailable',
    `the secrets service is not reachable: ${detail}`,
  );
}
