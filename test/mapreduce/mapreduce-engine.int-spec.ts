import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStorageUrl } from '@spindle/platform';
import { MapReduceRun, TASK_MAX_ATTEMPTS } from '@spindle/worker';
import type { MapReduceJobSpec, MapReduceProgress } from '@spindle/worker';
import { S3_CREDENTIALS, S3_ENDPOINT, countedWords, freshBucket, testStorage } from '../support/storage';
import { processAlive } from '../support/jobs';
import { waitUntil } from '../support/wait';
import { agentConfinement } from '../support/confinement';
import {
  SHORT_LINES,
  STREAMING_SUM_REDUCER as SUM_REDUCER,
  STREAMING_WORD_MAPPER as WORD_MAPPER,
  countWords,
  generateText,
} from '@spindle/testing';

// The engine against the real S3 server, with mapper and reducer programs written here the way
// Hadoop Streaming users write them: shebang scripts reading stdin, writing key\tvalue lines. The
// word count and the identity test run them confined as a root agent would (job users, cgroups,
// the read-only view); the others unconfined, since their programs keep state across attempts
// in the test's directory, which a confined program cannot write.
describe('MapReduce engine (streaming protocol) on S3Proxy', () => {
  const storage = testStorage();
  let dir: string;
  let shared: string; // state the test's programs keep across attempts (a first failure, a pid)
  let host: Awaited<ReturnType<typeof agentConfinement>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spindle-mr-'));
    shared = join(dir, 'shared');
    await writeFile(join(dir, 'placeholder'), '');
    host = await agentConfinement('mr-engine', dir);
    if (host.why) console.warn(`mapreduce-engine.int-spec: programs run unconfined: ${host.why}`);
  });
  afterAll(async () => {
    storage.destroy();
    host.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function program(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text, { mode: 0o755 });
    return path;
  }

  function spec(
    over: Partial<MapReduceJobSpec> & Pick<MapReduceJobSpec, 'jobId' | 'mapperPath'>,
    bucket: string,
  ) {
    return {
      input: parseStorageUrl(`${S3_ENDPOINT}/${bucket}/input/`, 'inputPath'),
      inputCredentials: S3_CREDENTIALS,
      output: parseStorageUrl(`${S3_ENDPOINT}/${bucket}/output/`, 'outputPath'),
      outputCredentials: S3_CREDENTIALS,
      nReducers: 3,
      protocol: 'streaming' as const,
      reducerPath: null,
      slots: 2,
      workRoot: join(dir, 'work'),
      confinement: null,
      ...over,
    };
  }

  async function run(s: MapReduceJobSpec, onProgress: (p: MapReduceProgress) => void = () => undefined) {
    const progress: MapReduceProgress[] = [];
    const job = new MapReduceRun(s, (p) => {
      progress.push(p);
      onProgress(p);
    });
    return { job, outcome: job.run(), progress };
  }

  it('counts the words of a 20 MB text with 3 reducers exactly as the test does', async () => {
    const bucket = await freshBucket(storage, 'wordcount');
    const text = generateText(20 * 1024 * 1024 + 123, SHORT_LINES);
    // Two objects under the prefix: the input is every object under it.
    const cut = text.indexOf('\n', text.length / 3) + 1;
    await storage.write(bucket, 'input/part-a.txt', text.slice(0, cut));
    await storage.write(bucket, 'input/part-b.txt', text.slice(cut));
    const { outcome, progress } = await run(
      spec(
        {
          jobId: 'wc',
          mapperPath: await program('mapper.awk', WORD_MAPPER),
          reducerPath: await program('reducer.awk', SUM_REDUCER),
          splitSize: 4 * 1024 * 1024,
          confinement: host.confinement,
        },
        bucket,
      ),
    );
    expect(await outcome).toEqual({ state: 'succeeded' });

    const planned = progress.find((p) => p.type === 'planned');
    expect(planned?.type === 'planned' && planned.maps.length).toBe(6); // 7 MB in 2 splits, 13 MB in 4
    const objects = (await storage.listPrefix(bucket, 'output/')).map((o) => o.key);
    expect(objects).toEqual([
      'output/_SUCCESS',
      'output/part-r-00000',
      'output/part-r-00001',
      'output/part-r-00002',
    ]);
    const counted = await countedWords(storage, bucket, 3);
    expect(counted).toEqual(countWords(text));
    // Each reducer's output is sorted by key, as its input was.
    const part = (await storage.readText(bucket, 'output/part-r-00001')).split('\n').filter(Boolean);
    expect(part.map((l) => l.split('\t')[0])).toEqual(part.map((l) => l.split('\t')[0]).sort());
    expect(
      progress
        .filter((p) => p.type === 'task-succeeded')
        .map((p) => p.taskId)
        .sort(),
    ).toEqual(
      [...['0', '1', '2', '3', '4', '5'].map((i) => `wc-m-${i}`), 'wc-r-0', 'wc-r-1', 'wc-r-2'].sort(),
    );
  }, 900_000); // a busy 2-core machine took 200-300 s; the bound only stops a hung run

  it("runs the mapper as a job user, with nothing of the agent's environment", async () => {
    if (!host.confinement) return console.warn(`mapreduce-engine.int-spec: not checked: ${host.why}`);
    process.env.SPINDLE_TEST_AGENT_SECRET = 'only-the-agent-knows';
    const bucket = await freshBucket(storage, 'who');
    await storage.write(bucket, 'input/a.txt', `${process.pid}\n`); // the agent's pid, as the line
    const who = await program(
      'who.sh',
      [
        '#!/bin/sh',
        'read -r agent',
        'printf "uid\\t%s\\n" "$(id -u)"',
        'printf "env\\t%s\\n" "$(env | cut -d= -f1 | sort | tr "\\n" " ")"',
        'if cat "/proc/$agent/environ" > /dev/null 2>&1; then echo "agent\tread"; else echo "agent\tdenied"; fi',
        '',
      ].join('\n'),
    );
    try {
      const { outcome } = await run(
        spec({ jobId: 'who', mapperPath: who, nReducers: 0, confinement: host.confinement }, bucket),
      );
      expect(await outcome).toEqual({ state: 'succeeded' });
    } finally {
      delete process.env.SPINDLE_TEST_AGENT_SECRET;
    }
    const said = Object.fromEntries(
      (await storage.readText(bucket, 'output/part-m-00000'))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t') as [string, string]),
    );
    expect(Number(said['uid'])).not.toBe(0);
    expect(Number(said['uid'])).not.toBe(process.getuid!());
    expect(said['agent']).toBe('denied');
    const env = said['env']!.trim().split(' ');
    expect(env).not.toContain('SPINDLE_TEST_AGENT_SECRET');
    expect(env).not.toContain('DATABASE_URL');
    expect(env).toEqual(expect.arrayContaining(['SPINDLE_JOB_ID', 'SPINDLE_TASK_ID']));
  });

  it('retries a mapper that fails once, and the job succeeds', async () => {
    const bucket = await freshBucket(storage, 'retry');
    await storage.write(bucket, 'input/a.txt', 'a b a\nc a\n');
    const marker = join(shared, 'failed-once');
    const flaky = await program(
      'flaky.sh',
      `#!/bin/sh
mkdir -p ${shared}
if [ ! -e ${marker} ]; then touch ${marker}; echo "first attempt fails" >&2; exit 3; fi
exec awk '{ for (i = 1; i <= NF; i++) print $i "\\t1" }'
`,
    );
    const { outcome, progress } = await run(
      spec(
        {
          jobId: 'retry',
          mapperPath: flaky,
          reducerPath: await program('sum.awk', SUM_REDUCER),
          nReducers: 2,
        },
        bucket,
      ),
    );
    expect(await outcome).toEqual({ state: 'succeeded' });
    const failed = progress.filter((p) => p.type === 'task-failed');
    expect(failed).toEqual([
      {
        type: 'task-failed',
        taskId: 'retry-m-0',
        attempt: 1,
        error: 'exit code 3\nfirst attempt fails',
        retried: true,
      },
    ]);
    expect(progress).toContainEqual({ type: 'task-succeeded', taskId: 'retry-m-0', attempt: 2 });
    expect(progress).toContainEqual({
      type: 'task-log',
      taskId: 'retry-m-0',
      attempt: 1,
      stream: 'stderr',
      line: 'first attempt fails',
    });
    const counts = await countedWords(storage, bucket, 2);
    expect(counts).toEqual(
      new Map([
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ]),
    );
  });

  it('fails the job when a reducer fails on every attempt, and writes no _SUCCESS', async () => {
    const bucket = await freshBucket(storage, 'failing');
    await storage.write(bucket, 'input/a.txt', 'a b\n');
    const { outcome, progress } = await run(
      spec(
        {
          jobId: 'bad',
          mapperPath: await program('wc-map.awk', WORD_MAPPER),
          reducerPath: await program(
            'broken.sh',
            '#!/bin/sh\ncat > /dev/null\necho "reducer is broken" >&2\nexit 1\n',
          ),
          nReducers: 1,
        },
        bucket,
      ),
    );
    expect(await outcome).toEqual({
      state: 'failed',
      error: 'task bad-r-0 failed 4 times; the last time: exit code 1\nreducer is broken',
    });
    const failures = progress.filter((p) => p.type === 'task-failed');
    expect(failures.map((p) => p.type === 'task-failed' && [p.attempt, p.retried])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [TASK_MAX_ATTEMPTS, false],
    ]);
    expect((await storage.listPrefix(bucket, 'output/')).map((o) => o.key)).toEqual([]); // spills deleted too
  });

  it('times out a task that shows no life, and runs it again', async () => {
    const bucket = await freshBucket(storage, 'timeout');
    await storage.write(bucket, 'input/a.txt', 'x y\n');
    const marker = join(shared, 'hung-once');
    const hangsOnce = await program(
      'hangs-once.sh',
      `#!/bin/sh
mkdir -p ${shared}
if [ ! -e ${marker} ]; then touch ${marker}; exec sleep 60; fi
exec awk '{ for (i = 1; i <= NF; i++) print $i "\\t1" }'
`,
    );
    const { outcome, progress } = await run(
      spec({ jobId: 'slow', mapperPath: hangsOnce, nReducers: 0, taskTimeoutMs: 1_500 }, bucket),
    );
    expect(await outcome).toEqual({ state: 'succeeded' });
    expect(progress.filter((p) => p.type === 'task-failed')).toEqual([
      {
        type: 'task-failed',
        taskId: 'slow-m-0',
        attempt: 1,
        error: 'no output within the task timeout (1500 ms)',
        retried: true,
      },
    ]);
  });

  it('stops a running job: every task process is killed', async () => {
    const bucket = await freshBucket(storage, 'stop');
    await storage.write(bucket, 'input/a.txt', 'a\nb\nc\nd\n');
    const pids = join(shared, 'pids');
    const sleeper = await program(
      'sleeper.sh',
      `#!/bin/sh\nmkdir -p ${pids}\necho $$ > ${pids}/$SPINDLE_TASK_ID\nexec sleep 120\n`,
    );
    let started = 0;
    let allStarted!: () => void;
    const twoRunning = new Promise<void>((r) => (allStarted = r));
    const { job, outcome, progress } = await run(
      spec(
        { jobId: 'stopme', mapperPath: sleeper, nReducers: 1, reducerPath: sleeper, splitSize: 2 },
        bucket,
      ),
      (p) => {
        if (p.type === 'task-started' && ++started === 2) allStarted();
      },
    );
    await twoRunning;
    // The programs wrote their pids once they run.
    await waitUntil(() => existsSync(join(pids, 'stopme-m-0')) && existsSync(join(pids, 'stopme-m-1')));
    const running = await Promise.all(
      ['stopme-m-0', 'stopme-m-1'].map(async (t) => Number(await readFile(join(pids, t), 'utf8'))),
    );
    job.stop('stopped by request');
    expect(await outcome).toEqual({ state: 'stopped', reason: 'stopped by request' });
    for (const pid of running) expect(processAlive(pid)).toBe(false);
    expect(
      progress
        .filter((p) => p.type === 'task-stopped')
        .map((p) => p.taskId)
        .sort(),
    ).toEqual(['stopme-m-0', 'stopme-m-1']);
    expect(progress.some((p) => p.type === 'task-started' && p.kind === 'reducer')).toBe(false);
  });

  it('writes the map output as the job output when there are 0 reducers', async () => {
    const bucket = await freshBucket(storage, 'maponly');
    await storage.write(bucket, 'input/a.txt', 'one two\nthree\nfour five six\n');
    const { outcome } = await run(
      spec(
        {
          jobId: 'maponly',
          mapperPath: await program('words.awk', WORD_MAPPER),
          nReducers: 0,
          splitSize: 10,
        },
        bucket,
      ),
    );
    expect(await outcome).toEqual({ state: 'succeeded' });
    const keys = (await storage.listPrefix(bucket, 'output/')).map((o) => o.key);
    expect(keys).toEqual([
      'output/_SUCCESS',
      'output/part-m-00000',
      'output/part-m-00001',
      'output/part-m-00002',
    ]);
    const texts = await Promise.all(keys.slice(1).map((k) => storage.readText(bucket, k)));
    // In each map's own order (no sort in a map-only job). Lines start at 0, 8 and 14: the third
    // split (20..28) holds no line start, and its part is empty, as Hadoop's would be.
    expect(texts).toEqual(['one\t1\ntwo\t1\nthree\t1\n', 'four\t1\nfive\t1\nsix\t1\n', '']);
  });
});
