import { mergeSorted } from './task-runs';

describe('mergeSorted', () => {
  it('merges sorted runs by key, ties in run order', () => {
    const kv = (key: string, value: string) => ({ key, value });
    expect(
      mergeSorted([
        [kv('a', '1'), kv('c', '1')],
        [],
        [kv('a', '2'), kv('b', '2'), kv('d', '2')],
        [kv('c', '3')],
      ]),
    ).toEqual([kv('a', '1'), kv('a', '2'), kv('b', '2'), kv('c', '1'), kv('c', '3'), kv('d', '2')]);
  });
});
