// One pending call of `fire` at a time: after `ms`, or for 0 in this turn of the event loop, once
// its I/O is handled (setImmediate). Node makes a setTimeout of 0 wait a millisecond at least, and
// a loop with nothing else to do sleeps that millisecond in its poll: a relay or dispatcher woken
// from idle by a commit paid it on every hop of a lone job (one on the way to the worker, one per
// report back). Their passes under load still wait a millisecond for each other (their callers).
export class WakeTimer {
  private timeout: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly fire: () => void) {}

  // Replaces the pending call, if any.
  set(ms: number): void {
    this.clear();
    if (ms <= 0) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.fire();
      });
    } else {
      this.timeout = setTimeout(() => {
        this.timeout = undefined;
        this.fire();
      }, ms);
    }
  }

  clear(): void {
    clearTimeout(this.timeout);
    clearImmediate(this.immediate);
    this.timeout = undefined;
    this.immediate = undefined;
  }
}
