import { Partition, mergeSorted } from './shuffle';

describe('the shuffle', () => {
  it("groups a map task's pairs by key, keys sorted by UTF-16 code units, values in emit order", () => {
    const partition = new Partition();
    for (const [key, value] of [
      ['b', '1'],
      ['a', '2'],
      ['é', '3'],
      ['b', '4'],
      ['B', '5'],
      ['a', '6'],
    ])
      partition.add({ key: key!, value: value! });
    expect(partition.sorted()).toEqual([
      { key: 'B', values: ['5'] },
      { key: 'a', values: ['2', '6'] },
      { key: 'b', values: ['1', '4'] },
      { key: 'é', values: ['3'] },
    ]);
  });

  it('merges sorted runs into one group per key, values in run order', () => {
    const kv = (key: string, ...values: string[]) => ({ key, values });
    expect(
      mergeSorted([
        [kv('a', '1', '1b'), kv('c', '1')],
        [],
        [kv('a', '2'), kv('b', '2'), kv('d', '2')],
        [kv('c', '3')],
      ]),
    ).toEqual([kv('a', '1', '1b', '2'), kv('b', '2'), kv('c', '1', '3'), kv('d', '2')]);
  });
});
