import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectStorage } from '@spindle/platform';
import {
  LONG_LINES,
  SHORT_LINES,
  STREAMING_SUM_REDUCER,
  STREAMING_WORD_MAPPER,
  WORD_COUNT_MAPPER,
  WORD_COUNT_REDUCER,
  countWords,
  generateText,
} from '@spindle/testing';
import type { TextShape } from '@spindle/testing';
import type { BenchEnv } from '../lib/bench-env';
import type { FigureReport, Row } from '../lib/report';
import { SpindleApi } from '../lib/spindle-api';
import { startSpindle } from '../lib/spindle-server';
import { nowMs, round } from '../lib/stats';

const MB = 1024 * 1024;
const REDUCERS = 3;
const SPLIT_SIZE = 16 * MB; // 7 map tasks for 100 MB: more than the host's cores, as Hadoop would cut it
const JOB_TIMEOUT_MS = 30 * 60_000;

interface MapReduceTask {
  readonly kind: 'mapper' | 'reducer';
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

interface MapReduceJob {
  readonly state: string;
  readonly error: string | null;
  readonly submittedAt: string;
  readonly finishedAt: string | null;
}

// One word count as measured: the job's own times (read model) and the floor's on the same text.
interface Measured {
  readonly protocol: 'streaming' | 'apollo';
  readonly bytes: number;
  readonly maps: number;
  readonly jobMs: number; // submittedAt → finishedAt
  readonly firstTaskMs: number; // submittedAt → the first map task started: placement and input listing
  readonly mapPhaseMs: number; // first map task started → last one finished
  readonly reducePhaseMs: number;
  readonly floorMs: number;
}

// Figure 9 (issue 15): a word count through Spindle's MapReduce engine on S3-compatible storage,
// beside the physical floor: `tr | sort | uniq -c` on the same text as a local file, timed in the
// same run. Once through the native API with the `streaming` protocol (awk scripts, one process
// per task), once through Apollo's route with the `apollo` protocol (a Python process per line and
// per key, so on a smaller text of long lines). Each result is checked word by word against the
// count the bench makes itself; a wrong one fails the figure.
export async function wordCountFigure(env: BenchEnv): Promise<FigureReport> {
  const storage = new ObjectStorage(env.storage.endpoint, env.storage.credentials);
  const bucket = `bench-wordcount-${randomUUID().slice(0, 8)}`;
  const dir = await mkdtemp(join(tmpdir(), 'spindle-bench-wordcount-'));
  let spindle: Awaited<ReturnType<typeof startSpindle>> | undefined;
  try {
    await storage.ensureBucket(bucket).catch((e: unknown) => {
      throw new Error(
        `no S3 storage answers at ${env.storage.endpoint} (S3_ENDPOINT; \`npm run infra:up\` starts it): ${String(e)}`,
      );
    });
    const streamingText = await prepareText(
      storage,
      bucket,
      dir,
      'streaming',
      env.sizes.wordCountBytes,
      SHORT_LINES,
    );
    const apolloText = await prepareText(
      storage,
      bucket,
      dir,
      'apollo',
      env.sizes.apolloWordCountBytes,
      LONG_LINES,
    );
    spindle = await startSpindle(env, 'wordcount', { SPINDLE_STORAGE_ALLOW: env.storage.endpoint });
    const api = new SpindleApi(spindle.url);
    const streaming = await nativeStreamingWordCount(api, env, storage, bucket, streamingText);
    const apollo = await apolloWordCount(api, env, storage, bucket, apolloText);
    return report(env, [streaming, apollo]);
  } finally {
    await spindle?.stop();
    await storage.deletePrefix(bucket, '').catch(() => undefined);
    storage.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

interface PreparedText {
  readonly key: string; // the input object, under input-<protocol>/
  readonly bytes: number;
  readonly expected: Map<string, number>;
  readonly floorMs: number;
}

// The text as a local file and as the job's input object; its count as the bench makes it; and
// the floor timed on that file (its answer checked too: the floor must do the same work).
async function prepareText(
  storage: ObjectStorage,
  bucket: string,
  dir: string,
  protocol: string,
  bytes: number,
  shape: TextShape,
): Promise<PreparedText> {
  const text = Buffer.from(generateText(bytes, shape), 'utf8');
  const file = join(dir, `${protocol}.txt`);
  await writeFile(file, text);
  const key = `input-${protocol}/text.txt`;
  await storage.write(bucket, key, text);
  const expected = countWords(text.toString('utf8'));
  const floorOutput = join(dir, `${protocol}.floor`);
  const t = nowMs();
  await shell(`export LC_ALL=C; tr -s ' ' '\\n' < "$0" | sort | uniq -c > "$1"`, [file, floorOutput]);
  const floorMs = nowMs() - t;
  const floorCounts = new Map<string, number>();
  for (const line of (await readFile(floorOutput, 'utf8')).split('\n')) {
    const [, count, word] = /^\s*(\d+) (.+)$/.exec(line) ?? [];
    if (word !== undefined) floorCounts.set(word, Number(count));
  }
  checkCounts(`the floor (tr | sort | uniq -c) on the ${protocol} text`, expected, floorCounts);
  return { key, bytes: text.length, expected, floorMs };
}

async function nativeStreamingWordCount(
  api: SpindleApi,
  env: BenchEnv,
  storage: ObjectStorage,
  bucket: string,
  text: PreparedText,
): Promise<Measured> {
  await api.upload('wc-map.awk', STREAMING_WORD_MAPPER);
  await api.upload('wc-reduce.awk', STREAMING_SUM_REDUCER);
  await api.json('PUT', '/api/v1/secrets/bench-storage', {
    values: {
      ACCESS_KEY_ID: env.storage.credentials.accessKeyId,
      SECRET_ACCESS_KEY: env.storage.credentials.secretAccessKey,
    },
  });
  const { id } = await api.json<{ id: string }>('POST', '/api/v1/mapreduce/jobs', {
    protocol: 'streaming',
    inputPath: `${env.storage.endpoint}/${bucket}/${text.key}`,
    outputPath: `${env.storage.endpoint}/${bucket}/output-streaming/`,
    mapper: 'wc-map.awk',
    reducer: 'wc-reduce.awk',
    nReducers: REDUCERS,
    splitSize: SPLIT_SIZE,
    inputSecret: 'bench-storage',
    outputSecret: 'bench-storage',
  });
  const measured = await measuredJob(api, id, 'streaming', text);
  const counted = new Map<string, number>();
  for (let r = 0; r < REDUCERS; r++) {
    const part = await storage.readText(bucket, `output-streaming/part-r-${String(r).padStart(5, '0')}`);
    for (const line of part.split('\n')) {
      if (line === '') continue;
      const [word, count] = line.split('\t');
      addOnce(counted, word!, Number(count));
    }
  }
  checkCounts('the streaming job', text.expected, counted);
  return measured;
}

async function apolloWordCount(
  api: SpindleApi,
  env: BenchEnv,
  storage: ObjectStorage,
  bucket: string,
  text: PreparedText,
): Promise<Measured> {
  const apollo = new SpindleApi(`${api.url}/compat/apollo`);
  for (const [name, program] of [
    ['wc-map.py', WORD_COUNT_MAPPER],
    ['wc-reduce.py', WORD_COUNT_REDUCER],
  ] as const) {
    const form = new FormData();
    form.append('program', new Blob([program]), name);
    const response = await fetch(`${apollo.url}/api/v1/artifacts`, { method: 'PUT', body: form });
    if (!response.ok) throw new Error(`PUT artifacts ${name}: ${response.status} ${await response.text()}`);
  }
  const credentials = {
    username: env.storage.credentials.accessKeyId,
    password: env.storage.credentials.secretAccessKey,
  };
  const { id } = await apollo.json<{ id: string }>('POST', '/api/v1/jobs', {
    nReducers: REDUCERS,
    inputPath: `${env.storage.endpoint}/${bucket}/${text.key}`,
    inputType: 'file/txt',
    // Apollo's outputPath is the endpoint: the output goes to its bucket `reducers`.
    outputPath: env.storage.endpoint,
    useSSL: false,
    mapperName: 'wc-map.py',
    reducerName: 'wc-reduce.py',
    inputStorageCredentials: credentials,
    outputStorageCredentials: credentials,
    splitSize: SPLIT_SIZE,
  });
  try {
    const measured = await measuredJob(api, id, 'apollo', text);
    const counted = new Map<string, number>();
    for (let r = 0; r < REDUCERS; r++) {
      const { pairs } = JSON.parse(await storage.readText('reducers', `${id}/${r}.json`)) as {
        pairs: { key: string; value: number }[];
      };
      for (const pair of pairs) addOnce(counted, pair.key, pair.value);
    }
    checkCounts('the apollo job', text.expected, counted);
    return measured;
  } finally {
    await storage.deletePrefix('reducers', `${id}/`).catch(() => undefined);
  }
}

// Waits for the job (both APIs' jobs are the native API's MapReduce jobs) and takes its times from
// the read model: the job's submit → finish, and each phase from its tasks' start and finish.
async function measuredJob(
  api: SpindleApi,
  id: string,
  protocol: Measured['protocol'],
  text: PreparedText,
): Promise<Measured> {
  let job: MapReduceJob | undefined;
  await api.waitUntil(
    `MapReduce job ${id} (${protocol}) to end`,
    async () => {
      job = await api.json<MapReduceJob>('GET', `/api/v1/mapreduce/jobs/${id}`);
      return job.finishedAt !== null;
    },
    JOB_TIMEOUT_MS,
    250,
  );
  if (job!.state !== 'succeeded') throw new Error(`${protocol} job ${id} ended ${job!.state}: ${job!.error}`);
  const tasks = await api.json<MapReduceTask[]>('GET', `/api/v1/mapreduce/jobs/${id}/tasks`);
  const phase = (kind: MapReduceTask['kind']): number => {
    const of = tasks.filter((t) => t.kind === kind);
    const started = Math.min(...of.map((t) => Date.parse(t.startedAt!)));
    const finished = Math.max(...of.map((t) => Date.parse(t.finishedAt!)));
    return finished - started;
  };
  return {
    protocol,
    bytes: text.bytes,
    maps: tasks.filter((t) => t.kind === 'mapper').length,
    jobMs: Date.parse(job!.finishedAt!) - Date.parse(job!.submittedAt),
    firstTaskMs: Math.min(...tasks.map((t) => Date.parse(t.startedAt!))) - Date.parse(job!.submittedAt),
    mapPhaseMs: phase('mapper'),
    reducePhaseMs: phase('reducer'),
    floorMs: text.floorMs,
  };
}

function addOnce(counts: Map<string, number>, word: string, count: number): void {
  if (counts.has(word)) throw new Error(`"${word}" is in the output twice`);
  counts.set(word, count);
}

function checkCounts(what: string, expected: Map<string, number>, got: Map<string, number>): void {
  for (const [word, count] of expected)
    if (got.get(word) !== count)
      throw new Error(`${what} counted "${word}" ${got.get(word) ?? 'no'} times, not ${count}`);
  for (const word of got.keys())
    if (!expected.has(word)) throw new Error(`${what} counted "${word}", which is not in the text`);
}

function shell(script: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`sh -c ${script}: exit ${code}`)),
    );
  });
}

function report(env: BenchEnv, runs: readonly Measured[]): FigureReport {
  const mbPerSecond = (bytes: number, ms: number) => round(bytes / MB / (ms / 1000), 2);
  const rows: Row[] = runs.flatMap((m): Row[] => {
    const size = `${m.protocol}, ${round(m.bytes / MB)} MB`;
    return [
      {
        metric: `${size}: job submit → finished`,
        unit: 's',
        better: 'lower',
        spindle: round(m.jobMs / 1000),
      },
      {
        metric: `${size}: throughput`,
        unit: 'MB/s',
        better: 'higher',
        spindle: mbPerSecond(m.bytes, m.jobMs),
      },
      {
        metric: `${size}: submit → first task started`,
        unit: 's',
        better: 'lower',
        spindle: round(m.firstTaskMs / 1000),
      },
      {
        metric: `${size}: map phase (${m.maps} tasks)`,
        unit: 's',
        better: 'lower',
        spindle: round(m.mapPhaseMs / 1000),
      },
      {
        metric: `${size}: reduce phase (${REDUCERS} tasks)`,
        unit: 's',
        better: 'lower',
        spindle: round(m.reducePhaseMs / 1000),
      },
      {
        metric: `${size}: floor (tr, sort, uniq -c)`,
        unit: 's',
        better: 'lower',
        spindle: round(m.floorMs / 1000, 2),
      },
      {
        metric: `${size}: floor throughput`,
        unit: 'MB/s',
        better: 'higher',
        spindle: mbPerSecond(m.bytes, m.floorMs),
      },
      {
        metric: `${size}: job time ÷ floor time`,
        unit: '×',
        better: 'lower',
        spindle: round(m.jobMs / m.floorMs),
      },
    ];
  });
  return {
    figure: 'wordcount',
    title: `9. Word count on S3 storage, ${REDUCERS} reducers, beside \`sort | uniq -c\` on the same file`,
    rows,
    goals: [],
    notes: [
      `MB = 2^20 bytes. Sizes of this ${env.mode} run: streaming ${round(env.sizes.wordCountBytes / MB)} MB ` +
        `(short lines, 5 000 words), apollo ${round(env.sizes.apolloWordCountBytes / MB)} MB (lines of ` +
        '8 000-12 000 words, 400 words: a Python process per line and per word). A full run counts 100 MB with streaming.',
      `Streaming: native \`POST /api/v1/mapreduce/jobs\`, awk mapper and reducer (one process per task), split size ` +
        `${SPLIT_SIZE / MB} MB, WORKER_SLOTS tasks at once on the one worker host. Apollo: \`POST /compat/apollo/api/v1/jobs\`, ` +
        "the Python programs of Apollo's users.",
      "Job time is the read model's submittedAt → finishedAt; phases from the tasks' startedAt/finishedAt. Every " +
        'word of every output was checked against the count the bench makes itself.',
      'Floor: `LC_ALL=C tr -s " " "\\n" < file | sort | uniq -c` on the same text as a local file, timed in the same ' +
        'run (no storage, no shuffle, no process per task); its answer is checked as well.',
    ],
  };
}
