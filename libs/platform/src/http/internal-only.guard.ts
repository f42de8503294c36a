import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { SPINDLE_CONFIG } from '../config/config.module';
import type { SpindleConfig } from '../config/spindle-config';
import { ProblemException } from './problem-details';

export const INTERNAL_TOKEN_HEADER = 'x-spindle-internal-token';

// Service-to-service routes are not part of the public API: they answer the installation's
// internal token only. The caller's address proves nothing (every job on the host, and a reverse
// proxy, call from loopback).
@Injectable()
export class InternalOnlyGuard implements CanActivate {
  constructor(@Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (carriesInternalToken(request.headers, this.config)) return true;
    throw new ProblemException(
      HttpStatus.FORBIDDEN,
      'internal-only',
      'Forbidden',
      'this route is for Spindle services only',
    );
  }
}

export function carriesInternalToken(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  config: Pick<SpindleConfig, 'internalToken'>,
): boolean {
  const token = headers[INTERNAL_TOKEN_HEADER];
  const expected = config.internalToken;
  return expected !== undefined && typeof token === 'string' && sameSecret(token, expected);
}

// The headers a service-to-service call carries.
export function internalHeaders(config: Pick<SpindleConfig, 'internalToken'>): Record<string, string> {
  return config.internalToken ? { [INTERNAL_TOKEN_HEADER]: config.internalToken } : {};
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
