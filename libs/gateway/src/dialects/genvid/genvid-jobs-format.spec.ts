import type { ServiceJobView } from '@spindle/read-models';
import { DialectError } from '../json-errors.filter';
import { MAX_WAIT_MS, genvidJob, waitIndexOf, waitMsOf } from './genvid-jobs-format';

const program = { artifact: 'serve.sh', sha256: 'a'.repeat(64), entrypoint: '', runtime: 'exec' as const };
const at = '2026-12-03T10:00:00.000Z';

describe("Genvid's jobs", () => {
  it("shows a service job in the seed's shape: groups with counts and Nomad's summary", () => {
    const row = {
      name: 'web',
      status: 'running',
      createdAt: new Date(at),
      updatedAt: new Date(at),
      job: {
        name: 'web',
        started: true,
        deleted: false,
        createdAt: at,
        updatedAt: at,
        taskGroups: [
          {
            name: 'web',
            function: 'serve',
            context: 'default',
            args: {},
            program,
            countInit: 1,
            countMax: 5,
            count: 2,
            ended: { complete: 1, failed: 2, lost: 0 },
            streak: 0,
            lastEndedAt: null,
          },
        ],
        allocations: [
          { id: 'a1', taskGroup: 'web', state: 'running', placedAt: at, runningSince: at },
          { id: 'a2', taskGroup: 'web', state: 'queued', placedAt: at, runningSince: null },
        ],
      },
    } as unknown as ServiceJobView;
    expect(genvidJob(row)).toEqual({
      name: 'web',
      status: 'running',
      taskGroups: [
        {
          name: 'web',
          count: 2,
          countInit: 1,
          countMax: 5,
          summary: { queued: 1, starting: 0, running: 1, complete: 1, failed: 2, lost: 0 },
        },
      ],
    });
  });

  it('reads waitIndex as Nomad reads its index: absent or 0 does not block, anything else is a 400', () => {
    expect(waitIndexOf(undefined)).toBeNull();
    expect(waitIndexOf('0')).toBeNull();
    expect(waitIndexOf(' 42 ')).toBe(42);
    for (const bad of ['-1', 'x', '1.5', '9'.repeat(16)])
      expect(() => waitIndexOf(bad)).toThrow(DialectError);
  });

  it('waits 5 minutes by default, at most 5 minutes, with up to a sixteenth of jitter', () => {
    expect(waitMsOf(undefined, () => 0)).toBe(300_000);
    expect(waitMsOf(undefined, () => 0.999)).toBe(300_000 + 18_731);
    expect(waitMsOf('10s', () => 0)).toBe(10_000);
    expect(waitMsOf('1h', () => 0)).toBe(MAX_WAIT_MS);
    expect(() => waitMsOf('soon')).toThrow(DialectError);
  });
});
