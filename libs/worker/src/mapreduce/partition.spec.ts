import { partitionOf } from './partition';

describe('partitionOf', () => {
  it('is FNV-1a 32 of the UTF-8 bytes modulo the reducers', () => {
    // Reference values of FNV-1a 32: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(partitionOf('', 0x7fffffff)).toBe(0x811c9dc5 % 0x7fffffff);
    expect(partitionOf('a', 1000)).toBe(0xe40c292c % 1000);
    expect(partitionOf('foobar', 7)).toBe(0xbf9cf968 % 7);
    // Non-ASCII by its UTF-8 bytes: "aé" is 61 c3 a9.
    expect(partitionOf('aé', 2 ** 31)).toBe(0x79d7a1fc % 2 ** 31);
  });

  it('spreads keys over every reducer', () => {
    const seen = new Set(Array.from({ length: 300 }, (_, i) => partitionOf(`word${i}`, 3)));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});
