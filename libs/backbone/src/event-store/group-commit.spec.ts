import { GroupCommit, groupedReads } from './group-commit';

// A commit that records its batches and answers each item with itself, once released.
function recorder() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const commit = async (items: readonly number[]) => {
    batches.push([...items]);
    await new Promise<void>((r) => releases.push(r));
    return items.map((value) => ({ status: 'fulfilled' as const, value }));
  };
  const releaseAll = () => releases.splice(0).forEach((r) => r());
  return { batches, commit, releaseAll };
}

const turn = () => new Promise((r) => setImmediate(r));

// Items added over several microtasks of one turn, as a fetched Kafka batch's commands reach it.
async function addAcrossMicrotasks(group: GroupCommit<number, number>, items: number[]) {
  return Promise.all(
    items.map(async (i) => {
      for (let hop = 0; hop < i; hop++) await Promise.resolve();
      return group.add(i);
    }),
  );
}

describe('GroupCommit', () => {
  it('without gathering, takes the first items at once into the batches allowed in flight', async () => {
    const { batches, commit, releaseAll } = recorder();
    const group = new GroupCommit(commit, { maxInFlight: 2 });
    const answered = addAcrossMicrotasks(group, [0, 1, 2, 3, 4]);
    await turn();
    expect(batches).toEqual([[0], [1]]);
    releaseAll();
    await turn();
    releaseAll();
    await expect(answered).resolves.toEqual([0, 1, 2, 3, 4]);
  });

  it("when idle, waits one turn so a burst's items share one batch", async () => {
    const { batches, commit, releaseAll } = recorder();
    const group = new GroupCommit(commit, { maxInFlight: 2, gather: 'when-idle' });
    const answered = addAcrossMicrotasks(group, [0, 1, 2, 3, 4]);
    await turn();
    await turn();
    expect(batches).toEqual([[0, 1, 2, 3, 4]]);
    releaseAll();
    await expect(answered).resolves.toEqual([0, 1, 2, 3, 4]);
  });

  it('when a batch is committing, starts the second batch at once, without waiting a turn', async () => {
    const { batches, commit, releaseAll } = recorder();
    const group = new GroupCommit(commit, { maxInFlight: 2, gather: 'when-idle' });
    const first = group.add(1);
    await turn();
    expect(batches).toEqual([[1]]);
    const second = group.add(2);
    // The second slot takes it in the same turn it was added in.
    expect(batches).toEqual([[1], [2]]);
    releaseAll();
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
  });

  it('drains what waits for its turn too', async () => {
    let answered = 0;
    const group = new GroupCommit(
      (items: readonly number[]) => {
        answered += items.length;
        return Promise.resolve(items.map((value) => ({ status: 'fulfilled' as const, value })));
      },
      { gather: 'when-idle' },
    );
    void group.add(1);
    void group.add(2);
    await group.drain();
    expect(answered).toBe(2);
  });

  it('with each-batch, waits a turn before every batch', async () => {
    const { batches, commit, releaseAll } = recorder();
    const group = new GroupCommit(commit, { maxInFlight: 1, gather: 'each-batch' });
    const first = group.add(1);
    await turn();
    await turn();
    const rest = [group.add(2), group.add(3)];
    releaseAll();
    await turn();
    await turn();
    expect(batches).toEqual([[1], [2, 3]]);
    releaseAll();
    await expect(Promise.all([first, ...rest])).resolves.toEqual([1, 2, 3]);
  });
});

describe('groupedReads', () => {
  it('reads the keys asked for during a read together, each once, and answers a key not found with the default', async () => {
    const reads: string[][] = [];
    const releases: (() => void)[] = [];
    const lookUp = groupedReads<string, number | null>(async (keys) => {
      reads.push([...keys]);
      await new Promise<void>((r) => releases.push(r));
      return new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.length]));
    }, null);
    const first = lookUp('a');
    await turn();
    const rest = [lookUp('bb'), lookUp('none'), lookUp('bb'), lookUp('ccc')];
    releases.splice(0).forEach((r) => r());
    await turn();
    expect(reads).toEqual([['a'], ['bb', 'none', 'ccc']]);
    releases.splice(0).forEach((r) => r());
    await expect(Promise.all([first, ...rest])).resolves.toEqual([1, 2, null, 2, 3]);
  });

  it('fails the callers of a failed read only', async () => {
    let calls = 0;
    const lookUp = groupedReads<string, number>(async (keys) => {
      calls += 1;
      if (calls === 1) throw new Error('connection lost');
      return new Map(keys.map((k) => [k, 7]));
    }, 0);
    await expect(lookUp('a')).rejects.toThrow('connection lost');
    await expect(lookUp('a')).resolves.toBe(7);
  });
});
