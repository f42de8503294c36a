import { LineSplitter } from './line-splitter';

describe('LineSplitter', () => {
  const split = (chunks: (string | Buffer)[], maxBytes = 64): string[] => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), maxBytes);
    for (const c of chunks) splitter.push(c);
    splitter.end();
    return lines;
  };

  it('cuts lines across chunk borders and keeps the last unterminated one', () => {
    expect(split(['a\nb', 'c\r\nd'])).toEqual(['a', 'bc', 'd']);
  });

  it('keeps a UTF-8 character whole when a chunk ends inside it', () => {
    const bytes = Buffer.from('ü\n', 'utf8');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1)])).toEqual(['ü']);
  });

  it('splits a line longer than the limit, never inside a character', () => {
    const lines = split(['é'.repeat(10) + '\n'], 5);
    expect(lines.join('')).toBe('é'.repeat(10));
    expect(lines.every((l) => Buffer.byteLength(l) <= 5)).toBe(true);
  });
});

describe('LineSplitter: whole lines and pieces', () => {
  const flags = (chunks: string[], maxBytes: number) => {
    const seen: [string, boolean][] = [];
    const splitter = new LineSplitter((text, whole) => seen.push([text, whole]), maxBytes);
    for (const c of chunks) splitter.push(c);
    splitter.end();
    return seen;
  };

  it('marks every piece of a cut line, also when the cut happens before its newline arrives', () => {
    expect(flags(['abcdefgh', 'ij\nok\n'], 4)).toEqual([
      ['abcd', false],
      ['efgh', false],
      ['ij', false],
      ['ok', true],
    ]);
    expect(flags(['abcdefghij\nok'], 4)).toEqual([
      ['abcd', false],
      ['efgh', false],
      ['ij', false],
      ['ok', true],
    ]);
  });
});
