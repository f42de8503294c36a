import { RowCache } from './row-cache';

interface Row {
  streamId: string;
  streamPosition: number;
}

const row = (streamId: string, streamPosition = 1): Row => ({ streamId, streamPosition });

// One batch as the rebuild folds it: begin, then the streams its events changed.
function fold(cache: RowCache<Row>, ...rows: Row[]): string[] {
  const forgotten = cache.beginBatch(rows.map((r) => r.streamId));
  for (const r of rows) cache.rows.set(r.streamId, r);
  cache.touched(rows.map((r) => r.streamId));
  return forgotten;
}

const ids = (rows: readonly Row[]): string[] => rows.map((r) => r.streamId);

describe('the rebuild’s row cache', () => {
  it('settles a row no batch touched for two batches, oldest first, and only once', () => {
    const cache = new RowCache<Row>(100);
    fold(cache, row('a'), row('b'));
    expect(cache.takeSettled()).toEqual([]);
    fold(cache, row('c'));
    expect(cache.takeSettled()).toEqual([]);
    fold(cache, row('d'));
    expect(ids(cache.takeSettled())).toEqual(['a', 'b']);
    expect(cache.takeSettled()).toEqual([]);
    expect(ids(cache.takeDirty())).toEqual(['c', 'd']);
    expect(cache.takeDirty()).toEqual([]);
  });

  it('keeps a row touched again dirty, behind the rows touched since', () => {
    const cache = new RowCache<Row>(100);
    fold(cache, row('a'), row('b'));
    fold(cache, row('a', 2));
    fold(cache, row('c'));
    expect(cache.takeSettled()).toEqual([row('b')]);
    expect(cache.takeDirty()).toEqual([row('a', 2), row('c')]);
  });

  it('plans a row never written for COPY and a row written before for an upsert', () => {
    const cache = new RowCache<Row>(100);
    fold(cache, row('a'), row('b'));
    expect(cache.planWrite(cache.takeDirty())).toEqual({ fresh: [row('a'), row('b')], again: [] });
    fold(cache, row('b', 2), row('c'));
    expect(cache.planWrite(cache.takeDirty())).toEqual({ fresh: [row('c')], again: [row('b', 2)] });
    expect(cache.writtenCount).toBe(3);
  });

  it('forgets the oldest rows down to half its capacity, and asks to read back a forgotten written one', () => {
    const cache = new RowCache<Row>(4);
    fold(cache, row('a'), row('b'), row('c'));
    fold(cache, row('a', 2), row('d'), row('e'));
    expect(cache.overCapacity).toBe(true);
    cache.planWrite(cache.takeDirty());
    cache.evictOldest();
    expect([...cache.rows.keys()]).toEqual(['d', 'e']);
    expect(cache.overCapacity).toBe(false);
    // b was written and forgotten: read back; z is new; d is still in memory.
    expect(cache.beginBatch(['b', 'z', 'd', 'b'])).toEqual(['b']);
    cache.restore([row('b')]);
    expect(cache.rows.get('b')).toEqual(row('b'));
  });

  it('makes rows dirty again when their write was lost, without moving the ones still dirty', () => {
    const cache = new RowCache<Row>(100);
    fold(cache, row('a'), row('b'));
    cache.planWrite(cache.takeDirty());
    fold(cache, row('c'));
    cache.markDirty(['a']);
    expect(ids(cache.takeDirty())).toEqual(['c', 'a']);
  });

  it('replaces only the rows it holds with newer versions', () => {
    const cache = new RowCache<Row>(100);
    fold(cache, row('a'));
    cache.replaceCached([row('a', 5), row('x', 5)]);
    expect(cache.rows.get('a')).toEqual(row('a', 5));
    expect(cache.rows.has('x')).toBe(false);
  });
});
