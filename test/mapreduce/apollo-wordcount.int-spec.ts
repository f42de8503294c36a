import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStorageUrl } from '@spindle/platform';
import { WORD_COUNT_MAPPER, WORD_COUNT_REDUCER, writeProgram } from '@spindle/testing';
import { MapReduceRun } from '@spindle/worker';
import type { MapReduceJobSpec, MapReduceProgress } from '@spindle/worker';
import { S3_CREDENTIALS, S3_ENDPOINT, freshBucket, testStorage } from '../support/storage';
import { processAlive } from '../support/jobs';

// The engine with Apollo's protocol against the real S3 server: programs written as Apollo's
// users write them (run per line and per key, talking over /tmp sockets), output where Apollo
// puts it (bucket `reducers`, `<jobId>/<reducerIndex>.json` holding {"pairs":[…]}).

// ~60 KB lines, so that a 20 MB text is a few hundred mapper runs, each writing ~250 KB of pairs.
function generateText(bytes: number): string {
  const vocabulary = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}${'y'.repeat(i % 5)}`);
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = Array.from(
      { length: 8_000 + Math.floor(random() * 4_000) },
      () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)],
    );
    const line = words.join(' ');
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.split(/\s+/)) if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

describe('MapReduce engine (apollo protocol) on S3Proxy', () => {
  const storage = testStorage();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spindle-apollo-mr-'));
  });
  afterAll(async () => {
    storage.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  function spec(
    over: Partial<MapReduceJobSpec> & Pick<MapReduceJobSpec, 'jobId' | 'mapperPath'>,
    bucket: string,
  ) {
    return {
      input: parseStorageUrl(`${S3_ENDPOINT}/${bucket}/input/`, 'inputPath'),
      inputCredentials: S3_CREDENTIALS,
      // Apollo's outputPath is the endpoint; its output goes to the bucket `reducers` there.
      output: parseStorageUrl(`${S3_ENDPOINT}/reducers/`, 'outputPath'),
      outputCredentials: S3_CREDENTIALS,
      nReducers: 3,
      protocol: 'apollo' as const,
      reducerPath: null,
      slots: 2,
      workRoot: join(dir, 'work'),
      ...over,
    };
  }

  it('counts the words of a 20 MB text with 3 reducers exactly as the test does', async () => {
    const bucket = await freshBucket(storage, 'apollo-wc');
    const text = generateText(20 * 1024 * 1024 + 77);
    await storage.write(bucket, 'input/text.txt', text);
    const jobId = `j-${randomUUID()}`;
    const progress: MapReduceProgress[] = [];
    const job = new MapReduceRun(
      spec(
        {
          jobId,
          mapperPath: writeProgram(dir, 'mapper', WORD_COUNT_MAPPER),
          reducerPath: writeProgram(dir, 'reducer', WORD_COUNT_REDUCER),
          splitSize: 4 * 1024 * 1024, // 5 splits: lines cross split boundaries
        },
        bucket,
      ),
      (p) => progress.push(p),
    );
    expect(await job.run()).toEqual({ state: 'succeeded' });

    const objects = (await storage.listPrefix('reducers', `${jobId}/`)).map((o) => o.key).sort();
    expect(objects).toEqual([0, 1, 2].map((r) => `${jobId}/${r}.json`));
    const counted = new Map<string, number>();
    for (const key of objects) {
      const { pairs } = JSON.parse(await storage.readText('reducers', key)) as {
        pairs: { key: string; value: number }[];
      };
      for (const pair of pairs) {
        expect(counted.has(pair.key)).toBe(false); // every key in exactly one reducer's output
        counted.set(pair.key, pair.value);
      }
    }
    expect(counted).toEqual(countWords(text));
    expect(progress.filter((p) => p.type === 'task-failed')).toEqual([]);
  }, 600_000);

  it('stops every running invocation of every task when the job is stopped', async () => {
    const bucket = await freshBucket(storage, 'apollo-stop');
    await storage.write(
      bucket,
      'input/text.txt',
      Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n'),
    );
    // Its /tmp is private (the test's directory there is out of its sight): pids go to /var/tmp.
    const pids = await mkdtemp('/var/tmp/spindle-apollo-pids-');
    const sleeper = writeProgram(dir, 'sleeper', `#!/bin/sh\necho $$ > "${pids}/$$"\nexec sleep 600\n`);
    const job = new MapReduceRun(
      spec({ jobId: `j-${randomUUID()}`, mapperPath: sleeper, splitSize: 64 }, bucket),
      () => undefined,
    );
    const outcome = job.run();
    const started = (): string[] => readdirSync(pids);
    while (started().length < 4) await new Promise((r) => setTimeout(r, 50));
    job.stop('stopped by the test');
    expect(await outcome).toEqual({ state: 'stopped', reason: 'stopped by the test' });
    const running = started().map((f) => Number(readFileSync(join(pids, f), 'utf8').trim()));
    for (const pid of running) while (processAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    expect(running.length).toBeGreaterThanOrEqual(4);
    await rm(pids, { recursive: true, force: true });
  }, 120_000);
});
