import { apolloPairToKeyValue, apolloProtocol, groupsOf } from './apollo.protocol';
import type { KeyValues } from '../program-protocol';

async function* from<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('the apollo protocol at the engine seam', () => {
  it('carries JSON keys and values as their JSON text', () => {
    expect(apolloPairToKeyValue({ key: 'word', value: 1 })).toEqual({ key: '"word"', value: '1' });
    expect(apolloPairToKeyValue({ key: { a: [1] }, value: null })).toEqual({
      key: '{"a":[1]}',
      value: 'null',
    });
  });

  it("hands the engine's groups over as Apollo's, keys and values parsed back", async () => {
    const sorted: KeyValues[] = [
      { key: '"a"', values: ['1', '2'] },
      { key: '"b"', values: ['{"n":3}'] },
      { key: '7', values: ['4', '5'] },
    ];
    expect(await all(groupsOf(from(sorted)))).toEqual([
      { key: 'a', values: [1, 2] },
      { key: 'b', values: [{ n: 3 }] },
      { key: 7, values: [4, 5] },
    ]);
    expect(await all(groupsOf(from([])))).toEqual([]);
  });

  it("writes Apollo's output objects: <jobId>/<reducerIndex>.json holding {pairs}", () => {
    const output = { endpoint: 'http://s3:9000', useSsl: false, bucket: 'reducers', key: '', isPrefix: true };
    expect(apolloProtocol.output.objectOf({ jobId: 'j-1', output }, 'reduce', 2)).toEqual({
      bucket: 'reducers',
      key: 'j-1/2.json',
    });
    expect(
      apolloProtocol.output.objectOf({ jobId: 'j-1', output: { ...output, key: 'out' } }, 'map', 0),
    ).toEqual({ bucket: 'reducers', key: 'out/j-1/map-0.json' });
    const encoded = apolloProtocol.output.encode([apolloPairToKeyValue({ key: 'the', value: 3 })]);
    expect(JSON.parse(encoded.toString('utf8'))).toEqual({ pairs: [{ key: 'the', value: 3 }] });
    expect(apolloProtocol.output.successMarker).toBe(false);
  });
});
