import type { ExecutionContext } from '@nestjs/common';
import { loadConfig } from '../config/spindle-config';
import { InternalOnlyGuard } from './internal-only.guard';
import { ProblemException } from './problem-details';

function contextFrom(remoteAddress: string, headers: Record<string, string> = {}): ExecutionContext {
  const request = { headers, socket: { remoteAddress } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

describe('InternalOnlyGuard', () => {
  const token = 'a-long-shared-secret-1234';
  const guard = new InternalOnlyGuard(loadConfig({ SPINDLE_INTERNAL_TOKEN: token }));

  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1'])('lets a caller on this host (%s) in', (address) => {
    expect(guard.canActivate(contextFrom(address))).toBe(true);
  });

  it('lets another host in with the shared token', () => {
    expect(guard.canActivate(contextFrom('10.1.2.3', { 'x-spindle-internal-token': token }))).toBe(true);
  });

  it.each<Record<string, string>>([{}, { 'x-spindle-internal-token': 'wrong-secret-of-some-length' }])(
    'refuses another host without the token',
    (headers) => {
      expect(() => guard.canActivate(contextFrom('10.1.2.3', headers))).toThrow(ProblemException);
    },
  );

  it('refuses other hosts outright when no token is configured', () => {
    const open = new InternalOnlyGuard(loadConfig({}));
    expect(() => open.canActivate(contextFrom('192.0.2.7', { 'x-spindle-internal-token': token }))).toThrow(
      ProblemException,
    );
  });
});
