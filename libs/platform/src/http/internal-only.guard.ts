import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { SPINDLE_CONFIG } from '../config/config.module';
import type { SpindleConfig } from '../config/spindle-config';
import { ProblemException } from './problem-details';

export const INTERNAL_TOKEN_HEADER = 'x-spindle-internal-token';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

// Service-to-service routes are not part of the public API: they answer callers on this host,
// and callers elsewhere only with SPINDLE_INTERNAL_TOKEN.
@Injectable()
export class InternalOnlyGuard implements CanActivate {
  constructor(@Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = request.headers[INTERNAL_TOKEN_HEADER];
    const expected = this.config.internalToken;
    if (expected && typeof token === 'string' && sameSecret(token, expected)) return true;
    if (LOOPBACK.test(request.socket.remoteAddress ?? '')) return true;
    throw new ProblemException(
      HttpStatus.FORBIDDEN,
      'internal-only',
      'Forbidden',
      'this route is for Spindle services only',
    );
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
