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

  it.each(['127.0.0.1', '10.1.2.3'])('lets a caller from %s in with the token', (address) => {
    expect(guard.canActivate(contextFrom(address, { 'x-spindle-internal-token': token }))).toBe(true);
  });

  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.1.2.3'])(
    'refuses a caller from %s without the token: a loopback address proves nothing',
    (address) => {
      expect(() => guard.canActivate(contextFrom(address))).toThrow(ProblemException);
    },
  );

  it('refuses a wrong token', () => {
    expect(() =>
      guard.canActivate(
        contextFrom('127.0.0.1', { 'x-spindle-internal-token': 'wrong-secret-of-some-length' }),
      ),
    ).toThrow(ProblemException);
  });

  it('refuses everyone when no token is settled', () => {
    const none = new InternalOnlyGuard(loadConfig({}));
    expect(() => none.canActivate(contextFrom('127.0.0.1', { 'x-spindle-internal-token': token }))).toThrow(
      ProblemException,
    );
  });
});
