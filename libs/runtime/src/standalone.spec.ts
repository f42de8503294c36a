import { ApiKeysQuery, ContextsQuery, ReadBarrier } from '@spindle/read-models';
import type { SpindleConfig } from '@spindle/platform';
import type { RunningApp } from './boot';
import { settleGateway } from './standalone';

// The gateway's start when the projector is another process that has not created its tables yet.
describe('settleGateway', () => {
  const config = { auth: { adminKey: 'seeded' } } as SpindleConfig;

  function appWith(waitForPosition: () => Promise<boolean>): RunningApp['app'] {
    const services = new Map<unknown, unknown>([
      [ContextsQuery, { waitForPosition }],
      [ReadBarrier, { await: async () => true }],
      [ApiKeysQuery, { any: async () => true }],
    ]);
    return { get: (token: unknown) => services.get(token) } as unknown as RunningApp['app'];
  }

  it('waits out read-model tables that do not exist yet, then settles', async () => {
    let calls = 0;
    const missing = Object.assign(new Error('relation "projector.contexts_v1" does not exist'), {
      code: '42P01',
    });
    await settleGateway(
      appWith(async () => {
        calls++;
        if (calls < 3) throw missing;
        return true;
      }),
      config,
    );
    expect(calls).toBe(3);
  });

  it('fails on any other error at once', async () => {
    const broken = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    await expect(
      settleGateway(
        appWith(async () => {
          throw broken;
        }),
        config,
      ),
    ).rejects.toBe(broken);
  });
});
