import { DEFAULT_CONTEXT_SETTINGS } from '@spindle/contracts';
import type { ContextSettings } from '@spindle/contracts';
import { planExclusive, planKeptWorkers, planShared } from './placement';
import type { HostSlots, PoolWorker } from './placement';

function ids(): () => string {
  let n = 0;
  return () => `w${++n}`;
}

const queue = (count: number): string[] => Array.from({ length: count }, (_, i) => `j${i + 1}`);

function settings(overrides: Partial<ContextSettings>): ContextSettings {
  return { ...DEFAULT_CONTEXT_SETTINGS, ...overrides };
}

describe('placing a queue', () => {
  it('places an exclusive context’s jobs in queue order, each on a fresh worker, at most maxJobs at once', () => {
    const hosts: HostSlots[] = [{ id: 'h1', incarnation: 'i1', free: 10 }];
    const plan = planExclusive(
      'solo',
      settings({ workerMode: 'exclusive', maxJobs: 3 }),
      queue(5),
      1,
      hosts,
      ids(),
    );
    expect(plan.placements).toEqual([
      { jobId: 'j1', workerId: 'w1', hostId: 'h1' },
      { jobId: 'j2', workerId: 'w2', hostId: 'h1' },
    ]);
    expect(plan.requested.map((w) => [w.id, w.mode, w.maxJobs, w.hostIncarnation])).toEqual([
      ['w1', 'exclusive', 1, 'i1'],
      ['w2', 'exclusive', 1, 'i1'],
    ]);
    expect(hosts[0]!.free).toBe(8);
  });

  it('places no more exclusive jobs than the hosts have slots, spreading them by free slots', () => {
    const hosts: HostSlots[] = [
      { id: 'h1', incarnation: 'i1', free: 1 },
      { id: 'h2', incarnation: 'i2', free: 1 },
    ];
    const plan = planExclusive(
      'solo',
      settings({ workerMode: 'exclusive', maxJobs: 16 }),
      queue(5),
      0,
      hosts,
      ids(),
    );
    expect(plan.placements.map((p) => [p.jobId, p.hostId])).toEqual([
      ['j1', 'h1'],
      ['j2', 'h2'],
    ]);
  });

  it('fills the oldest shared worker with room first, then grows the pool by one worker at a time', () => {
    const pool: PoolWorker[] = [
      { id: 'old', hostId: 'h1', free: 1 },
      { id: 'newer', hostId: 'h1', free: 2 },
    ];
    const hosts: HostSlots[] = [{ id: 'h1', incarnation: 'i1', free: 1 }];
    // maxJobs 9 with 2 placed: 7 more may run; the pool's workers take 3 of them.
    const plan = planShared(
      'pool',
      settings({ workerMode: 'shared', maxJobs: 9 }),
      queue(9),
      2,
      pool,
      hosts,
      ids(),
    );
    expect(plan.placements.map((p) => [p.jobId, p.workerId])).toEqual([
      ['j1', 'old'],
      ['j2', 'newer'],
      ['j3', 'newer'],
      ['j4', 'w1'],
      ['j5', 'w1'],
      ['j6', 'w1'],
      ['j7', 'w1'],
    ]);
    // The host had one slot: the pool is as large as it allows; j8 and j9 are over maxJobs.
    expect(plan.requested.map((w) => [w.id, w.mode, w.maxJobs])).toEqual([['w1', 'shared', 9]]);
    expect(hosts[0]!.free).toBe(0);
  });

  it('places no more of a shared context’s jobs than maxJobs at once, whatever room its workers have', () => {
    const pool: PoolWorker[] = [{ id: 'a', hostId: 'h1', free: 1 }];
    const hosts: HostSlots[] = [{ id: 'h1', incarnation: 'i1', free: 4 }];
    const busy = planShared(
      'one',
      settings({ workerMode: 'shared', maxJobs: 1 }),
      queue(3),
      1,
      [],
      hosts,
      ids(),
    );
    expect(busy).toEqual({ requested: [], placements: [] });
    expect(hosts[0]!.free).toBe(4);
    const two = planShared(
      'two',
      settings({ workerMode: 'shared', maxJobs: 2 }),
      queue(3),
      1,
      pool,
      hosts,
      ids(),
    );
    expect(two.placements.map((p) => p.jobId)).toEqual(['j1']);
    expect(two.requested).toEqual([]);
  });

  it('starts no shared worker while the pool has room', () => {
    const pool: PoolWorker[] = [{ id: 'old', hostId: 'h1', free: 5 }];
    const hosts: HostSlots[] = [{ id: 'h1', incarnation: 'i1', free: 4 }];
    const plan = planShared(
      'pool',
      settings({ workerMode: 'shared', maxJobs: 5 }),
      queue(3),
      0,
      pool,
      hosts,
      ids(),
    );
    expect(plan.requested).toEqual([]);
    expect(plan.placements.map((p) => p.workerId)).toEqual(['old', 'old', 'old']);
    expect(pool[0]!.free).toBe(2);
  });

  it('places one job per worker of a pool with workerJobs 1 (a group), and queues the rest', () => {
    const hosts: HostSlots[] = [{ id: 'h1', incarnation: 'i1', free: 10 }];
    const pool: PoolWorker[] = [
      { id: 'a', hostId: 'h1', free: 1 },
      { id: 'b', hostId: 'h1', free: 0 }, // busy
      { id: 'c', hostId: 'h1', free: 1 },
    ];
    const plan = planShared(
      'group:g',
      settings({ workerMode: 'shared', maxJobs: 3, workerJobs: 1 }),
      queue(5),
      1,
      pool,
      hosts,
      ids(),
    );
    expect(plan.placements).toEqual([
      { jobId: 'j1', workerId: 'a', hostId: 'h1' },
      { jobId: 'j2', workerId: 'c', hostId: 'h1' },
    ]);
    expect(plan.requested).toEqual([]);
  });

  it('asks for the workers a kept pool misses, each taking workerJobs jobs, as far as slots allow', () => {
    const hosts: HostSlots[] = [
      { id: 'h1', incarnation: 'i1', free: 1 },
      { id: 'h2', incarnation: 'i2', free: 1 },
    ];
    const requested = planKeptWorkers(
      'group:g',
      settings({ workerMode: 'shared', maxJobs: 3, workerJobs: 1, keepWorkers: 3 }),
      3,
      hosts,
      ids(),
    );
    expect(requested.map((w) => [w.id, w.hostId, w.mode, w.maxJobs])).toEqual([
      ['w1', 'h1', 'shared', 1],
      ['w2', 'h2', 'shared', 1],
    ]);
  });
});
