import type { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { LeaderLock } from './leader-lock';

// A failed pass is tried again this soon (then twice as late each time, up to the tick): the ticks
// are seconds long, and what a pass does (place jobs, end timeouts) should not wait for one.
const RETRY_MS = 250;

// A pass that one process runs at a time (under a lock of its own): at once when woken
// (a commit), else every `tickMs`, or sooner when the pass asks to run again at a time (ms since
// epoch). Passes never overlap; a wake during one runs the next right after it. The dispatcher's,
// the service job supervisor's, the MapReduce supervisor's and the projector's event reductions'.
export class LeadingLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private retryMs = RETRY_MS;

  constructor(
    private readonly pass: () => Promise<number | null | void>,
    private readonly tickMs: number,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  // Something changed: look again now rather than at the next tick.
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.again = false;
    let next = this.tickMs;
    this.running = this.pass()
      .then((at) => {
        if (typeof at === 'number') next = Math.max(0, Math.min(next, at - Date.now()));
        this.retryMs = RETRY_MS;
      })
      .catch((e: unknown) => {
        this.logger.warn(`${this.what} pass failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
        next = Math.min(next, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, this.tickMs);
      });
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(this.again ? 0 : next);
  }
}

// A duty one process of the installation does at a time (a session advisory lock of its class):
// its pass runs while this process leads, at once when `wakeOn` signals a change (a commit),
// else every `tickMs`. Started with the application, stopped (and the lead given up) before it
// shuts down. The scheduler's dispatcher, service job supervisor and MapReduce supervisor.
export abstract class LeaderDuty implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger: Logger;
  private readonly leader: LeaderLock;
  private readonly loop: LeadingLoop;

  protected constructor(
    dataSource: DataSource,
    private readonly spec: {
      readonly lockClass: number;
      readonly duty: string; // what the leader does, in its log lines ("dispatching jobs")
      readonly what: string; // names a failed pass ("dispatch pass failed")
      readonly tickMs: number;
      readonly logger: Logger;
      // Subscribes `wake` to what calls for a pass; may answer how to unsubscribe (at shutdown).
      readonly wakeOn: (wake: () => void) => void | (() => void);
    },
  ) {
    this.logger = spec.logger;
    this.leader = new LeaderLock(dataSource, spec.lockClass, null, spec.logger, spec.duty);
    this.loop = new LeadingLoop(
      async () => {
        if (!(await this.leader.hold())) return null;
        return this.lead();
      },
      spec.tickMs,
      spec.logger,
      spec.what,
    );
  }

  // One pass, as the leader; may answer when (epoch ms) the next one is due before the tick.
  protected abstract lead(): Promise<number | null | void>;

  // Runs a part of a pass holding a second lock of class `lockClass` on the leader session,
  // waiting for it (see LeaderLock.whileLocked): what others take in their transactions.
  protected holding<T>(lockClass: number, fn: () => Promise<T>): Promise<T> {
    return this.leader.whileLocked(lockClass, fn);
  }

  // When this process became the leader (epoch ms).
  protected get leadingSince(): number {
    return this.leader.leadingSince;
  }

  private stopWaking: void | (() => void) = undefined;

  onApplicationBootstrap(): void {
    this.stopWaking = this.spec.wakeOn(() => this.loop.wake());
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopWaking?.();
    await this.loop.stop();
    await this.leader.release();
  }
}
