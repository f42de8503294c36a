import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import {
  SHORT_LINES,
  STREAMING_SUM_REDUCER,
  TEST_KAFKA_BROKERS,
  countWords,
  generateText,
  processAlive,
  uniqueName,
} from '@spindle/testing';
import { http } from '../support/http';
import { upload } from '../support/jobs';
import { TEST_SPINDLE_ENV } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { S3_ENDPOINT, countedWords, freshBucket, storageSecret, testStorage } from '../support/storage';
import { waitUntil } from '../support/wait';

jest.setTimeout(600_000);

const KAFKA = { KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), KAFKA_TOPIC_PARTITIONS: '1' };
// The installation's token for service-to-service routes (a host fetches a job's credentials
// from the secrets service with it): the worker process keeps a data directory of its own.
const INTERNAL = { SPINDLE_INTERNAL_TOKEN: `mapreduce-hosts-${process.pid}-internal` };
const MAIN_HOST = 'a-main'; // sorts first: the coordinator goes to the first of equal hosts
// Each map attempt takes a second or two, so the two hosts' slots are all busy at once.
const SLOW_WORD_MAPPER = `#!/bin/sh
sleep 2
exec awk '{ for (i = 1; i <= NF; i++) print $i "\\t1" }'
`;

interface Task {
  readonly id: string;
  readonly kind: string;
  readonly state: string;
  readonly hostId: string | null;
  readonly attempts: number;
}

// One MapReduce job's tasks spread over two worker hosts (the standalone's own agent and a worker
// process of its own), on the real Kafka, Postgres and S3 server: the scheduler places each
// attempt the job's coordinator asks for on the host with the most free slots, and a host lost
// mid-job has its attempts run again on the other while the job goes on. Needs another process,
// so it runs on Kafka only.
describe('a MapReduce job over two worker hosts', () => {
  const workers: ChildProcess[] = [];
  const dirs: string[] = [];
  // Declared before the suite's own afterAll, so it runs first: the hosts go before Spindle does.
  afterAll(() => {
    for (const worker of workers) if (worker.pid) killGroup(worker.pid);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const suite = spindleSuite({
    name: 'mapreduce-hosts',
    env: {
      ...TEST_SPINDLE_ENV,
      ...KAFKA,
      ...INTERNAL,
      MIST_PORT: '0',
      ILUM_PORT: '0',
      GENVID_PORT: '0',
      APOLLO_PORT: '0',
      SPINDLE_STORAGE_ALLOW: S3_ENDPOINT,
      WORKER_SLOTS: '2',
      WORKER_HOST_ID: MAIN_HOST,
    },
  });
  const storage = testStorage();
  afterAll(() => storage.destroy());

  let secret: string;
  let mapper: string;
  let reducer: string;
  beforeAll(async () => {
    secret = await storageSecret(suite.url);
    mapper = uniqueName('slow-map');
    reducer = uniqueName('sum-reduce');
    await upload(suite.url, mapper, SLOW_WORD_MAPPER);
    await upload(suite.url, reducer, STREAMING_SUM_REDUCER);
  });

  // A worker host of its own: a separate process in its own process group and data directory.
  async function startWorkerHost(name: string): Promise<{ hostId: string; process: ChildProcess }> {
    const hostId = `${name}-${process.pid}`;
    const dataDir = mkdtempSync(join(tmpdir(), `spindle-${name}-`));
    dirs.push(dataDir);
    const worker = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
      env: {
        ...process.env,
        ...KAFKA,
        ...INTERNAL,
        DATABASE_URL: suite.databaseUrl,
        KAFKA_NAMESPACE: suite.kafkaNamespace,
        SPINDLE_DATA_DIR: dataDir,
        SPINDLE_STORAGE_ALLOW: S3_ENDPOINT,
        WORKER_PORT: '0',
        WORKER_SLOTS: '2',
        WORKER_HOST_ID: hostId,
        // The standalone serves service-to-service routes on its loopback internal listener only.
        ARTIFACT_STORE_URL: suite.spindle.internalUrl,
        LOG_COLLECTOR_URL: suite.spindle.internalUrl,
        SECRETS_URL: suite.spindle.internalUrl,
      },
      stdio: 'ignore',
      detached: true,
    });
    workers.push(worker);
    // Up once the scheduler has heard it.
    await waitUntil(async () => (await liveHosts()).includes(hostId), 120_000);
    return { hostId, process: worker };
  }

  // The hosts the scheduler places on: not stopping, and heard within the silence each is allowed.
  async function liveHosts(): Promise<string[]> {
    const rows = await query(
      `select id from scheduler.hosts where not stopping and heard_until >= now() order by id`,
    );
    return rows.map((r: { id: string }) => r.id);
  }

  // The consumer groups on the broker that name the host, with its id and agent run left out.
  async function groupsOf(hostId: string): Promise<string[]> {
    const admin = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const prefix = `${suite.kafkaNamespace}.`; // KafkaNamespace.group
      return (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(prefix) && g.includes(hostId))
        .map((g) =>
          g
            .slice(prefix.length)
            .replace(hostId, '<host>')
            .replace(/[0-9a-f-]{36}$/, '<run>'),
        )
        .sort();
    } finally {
      await admin.disconnect();
    }
  }

  async function query(sql: string, params: unknown[] = []): Promise<any[]> {
    const db = new Client({ connectionString: suite.databaseUrl });
    await db.connect();
    try {
      return (await db.query(sql, params)).rows;
    } finally {
      await db.end();
    }
  }

  async function submitWordCount(bucket: string, text: string): Promise<string> {
    await storage.write(bucket, 'input/text.txt', text);
    const created = await http(suite.url, 'POST', '/api/v1/mapreduce/jobs', {
      inputPath: `${S3_ENDPOINT}/${bucket}/input/`,
      outputPath: `${S3_ENDPOINT}/${bucket}/output/`,
      mapper,
      reducer,
      nReducers: 2,
      splitSize: Math.ceil(text.length / 8), // 8 map tasks
      inputSecret: secret,
      outputSecret: secret,
    });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  const tasksOf = async (id: string): Promise<Task[]> =>
    (await http(suite.url, 'GET', `/api/v1/mapreduce/jobs/${id}/tasks`)).body;

  async function finished(id: string): Promise<any> {
    let body: any;
    await waitUntil(async () => {
      await new Promise((r) => setTimeout(r, 500));
      body = (await http(suite.url, 'GET', `/api/v1/mapreduce/jobs/${id}`)).body;
      return ['succeeded', 'failed', 'stopped'].includes(body.state);
    }, 300_000);
    return body;
  }

  async function expectCounted(bucket: string, text: string): Promise<void> {
    expect(await countedWords(storage, bucket, 2)).toEqual(countWords(text));
  }

  it("runs one job's map tasks on both hosts, and counts exactly", async () => {
    const other = await startWorkerHost('zz-helper');
    const bucket = await freshBucket(storage, 'two-hosts');
    const text = generateText(400 * 1024 + 11, SHORT_LINES);
    const id = await submitWordCount(bucket, text);
    const job = await finished(id);
    expect(job).toMatchObject({ id, state: 'succeeded', tasks: 8 + 2, hostId: MAIN_HOST });
    const tasks = await tasksOf(id);
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
    const mapHosts = new Set(tasks.filter((t) => t.kind === 'mapper').map((t) => t.hostId));
    expect([...mapHosts].sort()).toEqual([MAIN_HOST, other.hostId].sort());
    await expectCounted(bucket, text);
    // Apollo's task shape does not show hosts; the native API's does.
    expect(Object.keys(tasks[0]!)).toContain('hostId');
    // The host's consumer groups: its host topic's, and one for what its agent run reads from the
    // start (the logger levels and MapReduce's jobs): each group is a consumer polling while idle.
    expect(await groupsOf(other.hostId)).toEqual(['worker-agent-run.<host>.<run>', 'worker-agent.<host>']);
    killGroup(other.process.pid!);
  });

  it("runs a lost host's attempts again on the other host, and the job goes on to succeed", async () => {
    const victim = await startWorkerHost('zz-victim');
    const bucket = await freshBucket(storage, 'host-lost');
    const text = generateText(400 * 1024 + 29, SHORT_LINES);
    const id = await submitWordCount(bucket, text);
    await waitUntil(
      async () => (await tasksOf(id)).some((t) => t.hostId === victim.hostId && t.state === 'in-progress'),
      120_000,
    );
    killGroup(victim.process.pid!);
    const job = await finished(id);
    // The coordinator stayed on the main host: the job went on in its first run.
    expect(job).toMatchObject({ id, state: 'succeeded', run: 1, hostId: MAIN_HOST });
    const tasks = await tasksOf(id);
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
    // The attempts the lost host had were run again, on the host that is left.
    const rerun = tasks.filter((t) => t.attempts > 1);
    expect(rerun.length).toBeGreaterThan(0);
    expect(rerun.every((t) => t.hostId === MAIN_HOST)).toBe(true);
    await expectCounted(bucket, text);
  });

  it('runs a failed attempt again on the other host', async () => {
    const other = await startWorkerHost('zz-retry');
    // Only these two, so the retry's placement is the supervisor's choice between them.
    await waitUntil(async () => (await liveHosts()).join() === [MAIN_HOST, other.hostId].join(), 30_000);
    const failsOnce = uniqueName('fails-once-map');
    await upload(
      suite.url,
      failsOnce,
      `#!/bin/sh\nif [ "$SPINDLE_TASK_ATTEMPT" = 1 ]; then echo "first attempt fails" >&2; exit 1; fi\n` +
        `exec awk '{ for (i = 1; i <= NF; i++) print $i "\\t1" }'\n`,
    );
    const bucket = await freshBucket(storage, 'two-hosts-retry');
    const text = generateText(20 * 1024 + 3, SHORT_LINES);
    await storage.write(bucket, 'input/text.txt', text);
    const created = await http(suite.url, 'POST', '/api/v1/mapreduce/jobs', {
      inputPath: `${S3_ENDPOINT}/${bucket}/input/`,
      outputPath: `${S3_ENDPOINT}/${bucket}/output/`,
      mapper: failsOnce,
      reducer,
      nReducers: 2,
      inputSecret: secret,
      outputSecret: secret,
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect(await finished(id)).toMatchObject({ id, state: 'succeeded', tasks: 1 + 2 });
    await expectCounted(bucket, text);
    const placed = await query(
      `select data->>'attempt' as attempt, data->>'hostId' as host from scheduler.events
       where stream_id = $1 and type = 'MapReduceTaskAssigned' and data->>'taskId' = $2
       order by stream_position`,
      [`mapreduce-job-${id}`, `${id}-m-0`],
    );
    expect(placed.map((p) => p.attempt)).toEqual(['1', '2']);
    expect(placed[1].host).not.toBe(placed[0].host);
    killGroup(other.process.pid!);
  });

  it('stops a job: every running task on every host is killed, and it ends stopped', async () => {
    const other = await startWorkerHost('zz-stopper');
    // Each map attempt says where it runs (its pid, in its task's log: it runs confined, and can
    // write no file the test reads), then waits.
    const waiting = uniqueName('waiting-map');
    await upload(suite.url, waiting, `#!/bin/sh\necho "pid $$" >&2\nexec sleep 600\n`);
    const bucket = await freshBucket(storage, 'two-hosts-stop');
    const text = generateText(40 * 1024, SHORT_LINES);
    await storage.write(bucket, 'input/text.txt', text);
    const created = await http(suite.url, 'POST', '/api/v1/mapreduce/jobs', {
      inputPath: `${S3_ENDPOINT}/${bucket}/input/`,
      outputPath: `${S3_ENDPOINT}/${bucket}/output/`,
      mapper: waiting,
      reducer,
      nReducers: 1,
      splitSize: Math.ceil(text.length / 4), // 4 map tasks: both hosts' 2 slots
      inputSecret: secret,
      outputSecret: secret,
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const pidOf = async (taskId: string): Promise<number | null> => {
      const log = (await http(suite.url, 'GET', `/api/v1/mapreduce/jobs/${id}/tasks/${taskId}/log`)).text;
      const said = /pid (\d+)/.exec(log ?? '');
      return said ? Number(said[1]) : null;
    };
    let programs: number[] = [];
    await waitUntil(async () => {
      const running = (await tasksOf(id)).filter((t) => t.state === 'in-progress');
      if (running.length !== 4) return false;
      const pids = await Promise.all(running.map((t) => pidOf(t.id)));
      programs = pids.filter((pid): pid is number => pid !== null);
      return programs.length === 4;
    }, 120_000);
    const hosts = new Set((await tasksOf(id)).filter((t) => t.kind === 'mapper').map((t) => t.hostId));
    expect([...hosts].sort()).toEqual([MAIN_HOST, other.hostId].sort());
    expect(programs.every(processAlive)).toBe(true);

    const stopping = await http(suite.url, 'DELETE', `/api/v1/mapreduce/jobs/${id}`);
    expect(stopping.status).toBe(200);
    const job = await finished(id);
    expect(job).toMatchObject({ id, state: 'stopped' });
    await waitUntil(async () => !programs.some(processAlive), 30_000);
    const tasks = await tasksOf(id);
    expect(tasks.every((t) => t.state === 'stopped')).toBe(true);
    killGroup(other.process.pid!);
  });
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
