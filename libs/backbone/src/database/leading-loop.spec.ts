import { Logger } from '@nestjs/common';
import { LeadingLoop } from './leading-loop';

const logger = new Logger('leading-loop-test');
logger.warn = () => undefined;

// The loop's timing, with fake timers: a pass runs at start, at a wake, at the time it asks for,
// else at the tick; a failed pass is tried again soon (not at the tick), then later each time.
describe('LeadingLoop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const passesAt = async (pass: () => Promise<number | null | void>, tickMs: number, untilMs: number) => {
    const at: number[] = [];
    const start = Date.now();
    const loop = new LeadingLoop(
      () => {
        at.push(Date.now() - start);
        return pass();
      },
      tickMs,
      logger,
      'test',
    );
    loop.start();
    await jest.advanceTimersByTimeAsync(untilMs);
    await loop.stop();
    return at;
  };

  it('runs at start and at each tick when nothing asks sooner', async () => {
    expect(await passesAt(async () => null, 5_000, 11_000)).toEqual([0, 5_000, 10_000]);
  });

  it('runs at the time a pass asks for, before the tick', async () => {
    let n = 0;
    const at = await passesAt(async () => (n++ === 0 ? Date.now() + 300 : null), 5_000, 1_000);
    expect(at).toEqual([0, 300]);
  });

  it('tries a failed pass again after 250 ms, then twice as late each time up to the tick, and from 250 ms again after a success', async () => {
    let n = 0;
    const at = await passesAt(
      async () => {
        n++;
        if (n <= 3 || n === 5) throw new Error('transient');
      },
      5_000,
      7_000,
    );
    // fails at 0, 250, 750; succeeds at 1750; the tick at 6750 fails and is retried at 7000
    expect(at).toEqual([0, 250, 750, 1_750, 6_750, 7_000]);
  });
});
