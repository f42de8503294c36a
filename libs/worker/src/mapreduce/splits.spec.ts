import { planSplits } from './splits';

describe('planSplits', () => {
  it('cuts each object into ranges of splitSize, the last one shorter', () => {
    expect(
      planSplits(
        [
          { key: 'a', size: 10 },
          { key: 'b', size: 0 },
          { key: 'c', size: 4 },
        ],
        4,
      ),
    ).toEqual([
      { key: 'a', start: 0, end: 4 },
      { key: 'a', start: 4, end: 8 },
      { key: 'a', start: 8, end: 10 },
      { key: 'c', start: 0, end: 4 },
    ]);
  });

  it('refuses a split size that is not a positive integer', () => {
    expect(() => planSplits([{ key: 'a', size: 1 }], 0)).toThrow('splitSize must be a positive integer');
    expect(() => planSplits([{ key: 'a', size: 1 }], 1.5)).toThrow(RangeError);
  });
});
