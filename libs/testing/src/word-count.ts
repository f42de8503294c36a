// The word count every MapReduce test runs, and the bench's figure 9: a deterministic text, the
// count it must give, and the programs written the way users write them (Hadoop Streaming awk
// scripts here; Apollo's per-line and per-key programs are WORD_COUNT_MAPPER / WORD_COUNT_REDUCER
// in apollo-programs.ts).

export const STREAMING_WORD_MAPPER = `#!/usr/bin/awk -f
{ for (i = 1; i <= NF; i++) print $i "\\t1" }
`;
export const STREAMING_SUM_REDUCER = `#!/usr/bin/awk -f
BEGIN { FS = "\\t" }
$1 != key { if (NR > 1) print key "\\t" sum; key = $1; sum = 0 }
{ sum += $2 }
END { if (NR > 0) print key "\\t" sum }
`;

export interface TextShape {
  readonly vocabulary: number; // distinct words
  readonly wordsPerLine: readonly [min: number, max: number];
  readonly seed: number;
  readonly doubleSpaces?: boolean; // some lines separate words by two spaces
}

// Short lines of many words suit the streaming protocol; Apollo's runs its mapper once per line,
// so its tests use long lines (a few hundred mapper runs for 20 MB).
export const SHORT_LINES: TextShape = {
  vocabulary: 5000,
  wordsPerLine: [1, 14],
  seed: 42,
  doubleSpaces: true,
};
export const LONG_LINES: TextShape = { vocabulary: 400, wordsPerLine: [8_000, 12_000], seed: 7 };

// A deterministic text of about `bytes` bytes over a vocabulary with skewed frequencies.
export function generateText(bytes: number, shape: TextShape): string {
  const vocabulary = Array.from(
    { length: shape.vocabulary },
    (_, i) => `w${i.toString(36)}${'x'.repeat(i % 7)}`,
  );
  let seed = shape.seed;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const [min, max] = shape.wordsPerLine;
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = Array.from(
      { length: min + Math.floor(random() * (max - min + 1)) },
      () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)],
    );
    const line = words.join(shape.doubleSpaces && random() < 0.1 ? '  ' : ' ');
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

// Words are runs of non-whitespace. Matched one at a time: a 100 MB text split into an array would
// hold some 15 million strings at once.
export function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [word] of text.matchAll(/\S+/g)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}
