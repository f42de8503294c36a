import { planSplits, readSplitLines } from '@spindle/worker';
import { freshBucket, testStorage } from '../support/storage';

// Hadoop's line rule against the real S3 server: whatever the split size, every line of the object
// is read by exactly one split, whole, in order; a line that spans two splits is read once.
describe('split reader on S3Proxy', () => {
  const storage = testStorage();
  afterAll(() => storage.destroy());

  const text = 'alpha beta\r\ngamma\n\nδelta épsilon\nzeta eta theta iota kappa lambda\nmu';
  const expected = ['alpha beta', 'gamma', '', 'δelta épsilon', 'zeta eta theta iota kappa lambda', 'mu'];

  it('reads every line exactly once for every split size', async () => {
    const bucket = await freshBucket(storage, 'splits');
    await storage.write(bucket, 'in/text.txt', text);
    const size = Buffer.byteLength(text);
    for (let splitSize = 1; splitSize <= size + 1; splitSize++) {
      const read: string[] = [];
      for (const split of planSplits([{ key: 'in/text.txt', size }], splitSize))
        for await (const record of readSplitLines(storage, bucket, split)) read.push(record.line);
      expect({ splitSize, read }).toEqual({ splitSize, read: expected });
    }
  });

  it('gives a line spanning two splits to the split holding its first byte', async () => {
    const bucket = await freshBucket(storage, 'spanning');
    // The boundary at 16 falls inside "spanning-line" (bytes 6..18).
    await storage.write(bucket, 'x.txt', 'first\nspanning-line\nlast\n');
    const [one, two] = planSplits([{ key: 'x.txt', size: 25 }], 16);
    const lines = async (split: typeof one) => {
      const out: string[] = [];
      for await (const r of readSplitLines(storage, bucket, split!)) out.push(r.line);
      return out;
    };
    expect(await lines(one)).toEqual(['first', 'spanning-line']);
    expect(await lines(two)).toEqual(['last']);
  });
});
