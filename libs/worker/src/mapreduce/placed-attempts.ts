import type { AttemptOrder, AttemptOutcome, TaskAttempts } from './task-attempts';

// A coordinator's attempts as the scheduler places them: each is reported ready (the job's stream
// then says MapReduceTaskReady), runs on whichever live host the supervisor places it on, and ends
// when the job's stream says it ended (`ended`, from the events of the coordinator's run). The
// scheduler holds attempts back until a slot is free, so all of a phase's are handed over at once.
export class PlacedAttempts implements TaskAttempts {
  readonly capacity = Number.MAX_SAFE_INTEGER;
  private readonly waiting = new Map<string, (outcome: AttemptOutcome) => void>();

  constructor(private readonly ready: (order: AttemptOrder) => Promise<void>) {}

  run(order: AttemptOrder, signal: AbortSignal): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve({ state: 'stopped' });
      const key = keyOf(order.taskId, order.attempt);
      // Stopped here, the attempt is killed on its host by the job's stop or end event.
      const onAbort = (): void => settle({ state: 'stopped' });
      const settle = (outcome: AttemptOutcome): void => {
        signal.removeEventListener('abort', onAbort);
        this.waiting.delete(key);
        resolve(outcome);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(key, settle);
      this.ready(order).catch((e: unknown) =>
        settle({ state: 'failed', error: `could not ask for the attempt: ${String(e)}` }),
      );
    });
  }

  ended(taskId: string, attempt: number, outcome: AttemptOutcome): void {
    this.waiting.get(keyOf(taskId, attempt))?.(outcome);
  }
}

function keyOf(taskId: string, attempt: number): string {
  return `${taskId}#${attempt}`;
}
