import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStorageUrl } from '@spindle/platform';
import {
  LONG_LINES,
  WORD_COUNT_MAPPER,
  WORD_COUNT_REDUCER,
  countWords,
  generateText,
  writeProgram,
} from '@spindle/testing';
import { MapReduceRun } from '@spindle/worker';
import type { MapReduceJobSpec, MapReduceProgress } from '@spindle/worker';
import { S3_CREDENTIALS, S3_ENDPOINT, freshBucket, testStorage } from '../support/storage';
import { processAlive } from '../support/jobs';
import { agentConfinement } from '../support/confinement';

// The engine with Apollo's protocol against the real S3 server: programs written as Apollo's
// users write them (run per line and per key, talking over /tmp sockets), output where Apollo
// puts it (bucket `reducers`, `<jobId>/<reducerIndex>.json` holding {"pairs":[…]}).

// The word count and the identity test run their programs confined as a root agent would (job
// users, cgroups, the read-only view, a private /tmp bound in it); not as root, as the test's user.
describe('MapReduce engine (apollo protocol) on S3Proxy', () => {
  const storage = testStorage();
  let dir: string;
  let host: Awaited<ReturnType<typeof agentConfinement>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spindle-apollo-mr-'));
    host = await agentConfinement('apollo-mr', dir);
    if (host.why) console.warn(`apollo-wordcount.int-spec: programs run unconfined: ${host.why}`);
  });
  afterAll(async () => {
    storage.destroy();
    host.close();
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
      confinement: null,
      ...over,
    };
  }

  it('counts the words of a 20 MB text with 3 reducers exactly as the test does', async () => {
    const bucket = await freshBucket(storage, 'apollo-wc');
    const text = generateText(20 * 1024 * 1024 + 77, LONG_LINES);
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
          confinement: host.confinement,
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

  it("runs the mapper as a job user, with nothing of the agent's environment", async () => {
    if (!host.confinement) return console.warn(`apollo-wordcount.int-spec: not checked: ${host.why}`);
    process.env.SPINDLE_TEST_AGENT_SECRET = 'only-the-agent-knows';
    const bucket = await freshBucket(storage, 'apollo-who');
    await storage.write(bucket, 'input/text.txt', `${process.pid}\n`); // the agent's pid, as the line
    const jobId = `j-${randomUUID()}`;
    const mapper = WORD_COUNT_MAPPER.replace(
      'pairs = [{"key": word, "value": 1} for word in line.split()]',
      [
        'import os',
        'try:',
        '    agent = "read" if "only-the-agent-knows" in open("/proc/%s/environ" % line).read() else "no secret"',
        'except OSError as e:',
        '    agent = type(e).__name__',
        'pairs = [{"key": "uid", "value": os.getuid()}, {"key": "env", "value": sorted(os.environ)}, {"key": "agent", "value": agent}]',
      ].join('\n'),
    );
    try {
      const job = new MapReduceRun(
        spec(
          {
            jobId,
            mapperPath: writeProgram(dir, 'who', mapper),
            nReducers: 0,
            confinement: host.confinement,
          },
          bucket,
        ),
        () => undefined,
      );
      expect(await job.run()).toEqual({ state: 'succeeded' });
    } finally {
      delete process.env.SPINDLE_TEST_AGENT_SECRET;
    }
    const { pairs } = JSON.parse(await storage.readText('reducers', `${jobId}/map-0.json`)) as {
      pairs: { key: string; value: unknown }[];
    };
    const said = Object.fromEntries(pairs.map((p) => [p.key, p.value]));
    expect(said['uid']).not.toBe(0);
    expect(said['uid']).not.toBe(process.getuid!());
    expect(said['agent']).toBe('PermissionError');
    expect(said['env']).not.toContain('SPINDLE_TEST_AGENT_SECRET');
    expect(said['env']).not.toContain('DATABASE_URL');
    expect(said['env']).toEqual(expect.arrayContaining(['SPINDLE_JOB_ID', 'SPINDLE_TASK_ID']));
  });

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
    // The pids written so far. The shell creates its file before it writes its pid, and one killed
    // in between leaves it empty: read as pid 0, that "process" (kill(0, 0) signals the caller's
    // own group) would never end, and the test hung (a CI run of 2026-12-05).
    const started = (): number[] =>
      readdirSync(pids)
        .map((f) => Number(readFileSync(join(pids, f), 'utf8').trim()))
        .filter((pid) => pid > 0);
    while (started().length < 4) await new Promise((r) => setTimeout(r, 50));
    job.stop('stopped by the test');
    expect(await outcome).toEqual({ state: 'stopped', reason: 'stopped by the test' });
    const running = started();
    for (const pid of running) while (processAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    expect(running.length).toBeGreaterThanOrEqual(4);
    await rm(pids, { recursive: true, force: true });
  }, 120_000);
});
