import { WakeTimer } from './wake-timer';

describe('WakeTimer', () => {
  it('fires a zero delay in this turn, before a timer of 0 ms would', async () => {
    const order: string[] = [];
    const timer = new WakeTimer(() => order.push('woken'));
    setTimeout(() => order.push('timeout 0'), 0);
    timer.set(0);
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['woken', 'timeout 0']);
  });

  it('keeps one call pending: a new set replaces it, clear cancels it', async () => {
    let fired = 0;
    const timer = new WakeTimer(() => fired++);
    timer.set(30);
    timer.set(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).toBe(1);
    timer.set(0);
    timer.set(5);
    timer.clear();
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(1);
  });
});
