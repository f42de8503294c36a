export interface GroupCommitOptions {
  readonly maxBatch?: number; // default 500
  // Batches committing at once; 1 keeps them in order (default 1).
  readonly maxInFlight?: number;
  // Wait one turn of the event loop before a batch is taken, so what the same turn adds goes with
  // it: before every batch (`each-batch`), or only when nothing is committing (`when-idle`: a burst
  // that arrives in one turn, such as the commands of a fetched Kafka batch, shares the first
  // batch, and under load, when the next batch gathers during a commit anyway, nothing waits).
  readonly gather?: 'each-batch' | 'when-idle';
}

interface Waiting<TItem, TResult> {
  readonly item: TItem;
  readonly resolve: (result: TResult) => void;
  readonly reject: (error: unknown) => void;
}

// Group commit: while one batch commits, the next gathers. A lone item goes at once; under load the
// items that arrive during a commit share the next one. `commit` answers each item of a batch on its
// own (fulfilled or rejected), so one bad item never fails the others.
export class GroupCommit<TItem, TResult> {
  private queue: Waiting<TItem, TResult>[] = [];
  private readonly flushing = new Set<Promise<void>>();
  private waitingTurn = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly commit: (items: readonly TItem[]) => Promise<readonly PromiseSettledResult<TResult>[]>,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  add(item: TItem): Promise<TResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  // Resolves once everything added so far has been answered.
  async drain(): Promise<void> {
    while (this.flushing.size > 0 || this.waitingTurn) {
      if (this.flushing.size > 0) await Promise.all([...this.flushing]);
      else await new Promise((r) => setImmediate(r));
    }
  }

  private pump(): void {
    if (this.waitingTurn) return;
    if (this.options.gather === 'when-idle' && this.flushing.size === 0 && this.queue.length > 0) {
      this.waitingTurn = true;
      setImmediate(() => {
        this.waitingTurn = false;
        this.startFlushes();
      });
      return;
    }
    this.startFlushes();
  }

  private startFlushes(): void {
    while (this.flushing.size < this.maxInFlight && this.queue.length > 0) {
      const flush: Promise<void> = this.flush().finally(() => {
        this.flushing.delete(flush);
        this.pump();
      });
      this.flushing.add(flush);
    }
  }

  private async flush(): Promise<void> {
    if (this.options.gather === 'each-batch') await new Promise((r) => setImmediate(r));
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    let settled: readonly PromiseSettledResult<TResult>[];
    try {
      settled = await this.commit(batch.map((w) => w.item));
    } catch (e) {
      settled = batch.map(() => ({ status: 'rejected', reason: e }));
    }
    batch.forEach((w, i) => {
      const outcome = settled[i];
      if (outcome?.status === 'fulfilled') w.resolve(outcome.value);
      else w.reject(outcome ? outcome.reason : new Error('not answered'));
    });
  }
}

// Reads by key that share their statements: the keys asked for while a read runs go together in
// the next (a lone key goes at once), each distinct key once. `read` answers the keys it found;
// every caller gets its key's value, or `missing` for a key not found. A failed read fails the
// callers of that read only.
export function groupedReads<TKey, TValue>(
  read: (keys: readonly TKey[]) => Promise<ReadonlyMap<TKey, TValue>>,
  missing: TValue,
  options: GroupCommitOptions = { maxInFlight: 1 },
): (key: TKey) => Promise<TValue> {
  const reads = new GroupCommit<TKey, TValue>(async (keys) => {
    const found = await read([...new Set(keys)]);
    return keys.map((key) => ({ status: 'fulfilled', value: found.has(key) ? found.get(key)! : missing }));
  }, options);
  return (key) => reads.add(key);
}
