import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { KafkaNamespace } from '@spindle/backbone';
import { DataTopics, EventTopics } from '@spindle/contracts';
import { startStandalone } from '@spindle/runtime';
import type { Standalone } from '@spindle/runtime';
import { masterKeyFileOf } from '@spindle/secrets';
import { TEST_KAFKA_BROKERS, createTestDatabase, uniqueName } from '@spindle/testing';
import { http } from '../support/http';
import { captureOutput, tablesHolding } from '../support/leaks';
import { createContext, registerFunction, submit, upload, waitForState } from '../support/jobs';
import { waitForSummary } from '../support/service-jobs';
import { waitUntil } from '../support/wait';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { TEST_ADMIN_KEY } from '../support/auth';
import { INTERNAL_TOKEN_HEADER, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// A node job and an exec job that say whether their variables are there and return a hash of the
// secret value (never the value itself).
const NODE_JOB = `const { createHash } = require('node:crypto');
exports.run = () => {
  const v = process.env.DB_PASSWORD;
  console.log('DB_PASSWORD present:', typeof v === 'string');
  return {
    hash: v === undefined ? null : createHash('sha256').update(v).digest('hex'),
    user: process.env.DB_USER ?? null,
    token: process.env.API_TOKEN === undefined ? null : 'set',
  };
};
`;
const EXEC_JOB = `#!/bin/sh
cat > /dev/null
if [ -n "\${DB_PASSWORD+x}" ]; then echo "DB_PASSWORD present: true"; else echo "DB_PASSWORD present: false"; fi
h=$(printf %s "$DB_PASSWORD" | sha256sum | cut -d' ' -f1)
echo "{\\"hash\\":\\"$h\\",\\"user\\":\\"\${DB_USER:-}\\"}"
`;

// An instance of a service job that says whether its variables are there, prints hashes of them
// (never the values) and keeps running until it is stopped.
const SERVE_JOB = `#!/bin/sh
cat > /dev/null
if [ -n "\${DB_PASSWORD+x}" ]; then echo "DB_PASSWORD present: true"; else echo "DB_PASSWORD present: false"; fi
echo "password $(printf %s "$DB_PASSWORD" | sha256sum | cut -d' ' -f1)"
echo "token $(printf %s "$API_TOKEN" | sha256sum | cut -d' ' -f1)"
exec sleep 600
`;

// Every message of every topic of the installation, from the beginning to where each partition ends now.
async function kafkaMessagesHolding(marker: string, namespace: string): Promise<string[]> {
  const kafka = new Kafka({
    clientId: 'secrets-leak-check',
    brokers: TEST_KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  // The installation's topics: those of its namespace (other suites' Spindles on this broker have
  // theirs, many, and none of them ever saw this suite's secrets).
  const names = new KafkaNamespace(namespace);
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
  const ends = new Map<string, number>();
  for (const topic of topics)
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, Number(p.high));
  await admin.disconnect();
  expect(topics).toEqual(
    expect.arrayContaining([names.topic(EventTopics.secret), names.topic(DataTopics.logs)]),
  );
  const pending = new Set([...ends].filter(([, high]) => high > 0).map(([k]) => k));
  const hits: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('secrets-leak-check'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  let scanned = 0;
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    if (pending.size === 0) done();
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        scanned++;
        const text = `${message.key?.toString() ?? ''} ${message.value?.toString() ?? ''} ${JSON.stringify(message.headers ?? {})}`;
        if (text.includes(marker)) hits.push(`${topic}/${partition}@${message.offset}`);
        if (Number(message.offset) + 1 >= ends.get(`${topic}/${partition}`)!)
          pending.delete(`${topic}/${partition}`);
        if (pending.size === 0) done();
      },
    });
    await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))]);
    expect([...pending]).toEqual([]);
  } finally {
    await consumer.disconnect();
  }
  expect(scanned).toBeGreaterThan(0);
  return hits;
}

describe.each(SPINDLE_MODES)('secrets over %s', (mode, env) => {
  const kafka = mode === 'Kafka';
  // The value to look for everywhere after jobs used it.
  const marker = `marker-${randomBytes(12).toString('hex')}`;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let spindle: Standalone | undefined;
  let url: string;
  let output: ReturnType<typeof captureOutput>;
  const base = () => ({
    DATABASE_URL: db.url,
    KAFKA_NAMESPACE: db.name,
    GATEWAY_PORT: '0',
    SPINDLE_HOST: '127.0.0.1',
    SPINDLE_DATA_DIR: dataDir,
    SPINDLE_ADMIN_KEY: TEST_ADMIN_KEY,
    ...env,
  });
  const start = async (extra: Record<string, string> = {}) => {
    spindle = await startStandalone({ ...base(), ...extra }, true);
    url = spindle.url;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'spindle-secrets-'));
    output = captureOutput();
    await start();
  });

  afterAll(async () => {
    await spindle?.stop();
    output?.restore();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates the master key file on first start, mode 0600, with a warning', () => {
    const file = masterKeyFileOf(dataDir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(output.text()).toContain(`generated the secrets master key in ${file} (mode 0600)`);
  });

  it('writes versions, reads the latest values, lists without values and deletes', async () => {
    const first = await http(url, 'PUT', '/api/v1/secrets/db', {
      values: { DB_USER: 'etl', DB_PASSWORD: 'old' },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: 'db', version: 1, keys: ['DB_PASSWORD', 'DB_USER'] });
    expect(first.body).not.toHaveProperty('values');
    const second = await http(url, 'PUT', '/api/v1/secrets/db', {
      values: { DB_USER: 'etl', DB_PASSWORD: marker },
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: 'db', version: 2, createdAt: first.body.createdAt });
    expect(second.text).not.toContain(marker);

    const read = await http(url, 'GET', '/api/v1/secrets/db');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: 'db',
      version: 2,
      values: { DB_USER: 'etl', DB_PASSWORD: marker },
    });

    expect(
      (await http(url, 'PUT', '/api/v1/secrets/extra', { values: { API_TOKEN: `t-${marker}` } })).status,
    ).toBe(201);
    expect((await http(url, 'PUT', '/api/v1/secrets/gone', { values: { X: marker } })).status).toBe(201);
    expect((await http(url, 'DELETE', '/api/v1/secrets/gone')).status).toBe(204);
    expect((await http(url, 'GET', '/api/v1/secrets/gone')).status).toBe(404);

    const page = await http(url, 'GET', '/api/v1/secrets?limit=1');
    expect(page.body.items).toEqual([
      {
        id: 'db',
        version: 2,
        keys: ['DB_PASSWORD', 'DB_USER'],
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
    const next = await http(url, 'GET', `/api/v1/secrets?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body).toEqual({
      items: [expect.objectContaining({ id: 'extra', version: 1 })],
      nextCursor: null,
    });
    expect(page.text + next.text).not.toContain(marker);
  });

  it('audits every write, read and delete as an event with the caller (its API key) and no value', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const events = (
      await client.query(
        `select type, data, correlation_id from secrets.events where stream_id = 'secret-db' order by stream_position`,
      )
    ).rows;
    await client.end();
    expect(events.map((e) => e.type)).toEqual(['SecretWritten', 'SecretWritten', 'SecretRead']);
    expect(events[2].data).toEqual({
      id: 'db',
      version: 2,
      keys: ['DB_PASSWORD', 'DB_USER'],
      actor: { principal: 'env-admin', source: '127.0.0.1' }, // SPINDLE_ADMIN_KEY's id: these suites call with it
    });
    expect(JSON.stringify(events)).not.toContain(marker);
  });

  it('refuses bad input with problems naming the field, never echoing a value', async () => {
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/api/v1/secrets/-bad', { values: { A: marker } }, 'id'],
      ['PUT', '/api/v1/secrets/ok', { values: { '1BAD': marker } }, 'values'],
      ['PUT', '/api/v1/secrets/ok', { values: { A: 5 } }, 'values'],
      ['PUT', '/api/v1/secrets/ok', { values: {} }, 'values'],
      ['PUT', '/api/v1/secrets/ok', { values: { A: marker + 'x'.repeat(70_000) } }, 'values'],
      ['PUT', '/api/v1/secrets/ok', { values: { A: marker }, extra: 1 }, 'extra'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await http(url, method, path, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(res.text).not.toContain(marker);
    }
    const missing = await http(url, 'GET', '/api/v1/secrets/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'id', rule: 'exists' })]);
    expect((await http(url, 'DELETE', '/api/v1/secrets/nope')).status).toBe(404);
    expect((await http(url, 'GET', '/api/v1/secrets/ok')).status).toBe(404); // nothing was written
  });

  it('gives a job (node and exec) its secrets as variables, and records only references', async () => {
    await upload(url, 'env.js', NODE_JOB);
    await upload(url, 'env.sh', EXEC_JOB);
    const fn = await http(url, 'POST', '/api/v1/functions', {
      name: 'env-node',
      artifact: 'env.js',
      entrypoint: 'run',
      runtime: 'node',
      secrets: [{ id: 'db', keys: ['DB_PASSWORD'] }],
    });
    expect(fn.status).toBe(201);
    expect(fn.body.secrets).toEqual([{ id: 'db', keys: ['DB_PASSWORD'] }]);
    await registerFunction(url, 'env-exec', 'env.sh', 'exec');

    // The function's secret, and the submit's added to it.
    const nodeJob = await submit(url, 'env-node', { secrets: [{ id: 'extra' }] });
    const nodeDone = await waitForState(url, nodeJob.id);
    expect(nodeDone).toMatchObject({
      state: 'succeeded',
      result: { hash: sha256(marker), user: null, token: 'set' },
    });
    expect((await http(url, 'GET', `/api/v1/jobs/${nodeJob.id}`)).body.secrets).toEqual([
      { id: 'db', keys: ['DB_PASSWORD'] },
      { id: 'extra' },
    ]);
    const nodeLog = await http(url, 'GET', `/api/v1/jobs/${nodeJob.id}/logs`, undefined, {
      accept: 'text/plain',
    });
    expect(nodeLog.text).toContain('DB_PASSWORD present: true');

    const execJob = await submit(url, 'env-exec', { secrets: [{ id: 'db' }] });
    const execDone = await waitForState(url, execJob.id);
    expect(execDone).toMatchObject({ state: 'succeeded', result: { hash: sha256(marker), user: 'etl' } });

    // Without a reference, nothing.
    const bare = await waitForState(url, (await submit(url, 'env-exec', {})).id);
    expect(bare).toMatchObject({ state: 'succeeded', result: { hash: sha256(''), user: '' } });
  });

  it('fails a job whose secret or key is missing, naming it', async () => {
    const noSecret = await waitForState(
      url,
      (await submit(url, 'env-exec', { secrets: [{ id: 'nope' }] })).id,
    );
    expect(noSecret.state).toBe('failed');
    expect(noSecret.error).toContain('secret nope does not exist');
    const noKey = await waitForState(
      url,
      (await submit(url, 'env-exec', { secrets: [{ id: 'db', keys: ['NOPE'] }] })).id,
    );
    expect(noKey.state).toBe('failed');
    expect(noKey.error).toContain('secret db has no key NOPE');
    const bad = await http(url, 'POST', '/api/v1/functions/env-exec/jobs', {
      secrets: [{ id: 'db', keys: ['1X'] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'secrets.0.keys' })]);
  });

  it("gives a service job's instances their function's and group's secrets, by reference", async () => {
    await upload(url, 'env-serve.sh', SERVE_JOB);
    await createContext(url, 'services', { workerMode: 'exclusive', maxJobs: 4 });
    const fn = await http(url, 'POST', '/api/v1/functions', {
      name: 'env-serve',
      artifact: 'env-serve.sh',
      entrypoint: '',
      runtime: 'exec',
      defaultContext: 'services',
      secrets: [{ id: 'db', keys: ['DB_PASSWORD'] }],
    });
    expect(fn.status).toBe(201);
    const group = { name: 'front', function: 'env-serve', countInit: 1, countMax: 2 };
    const bad = await http(url, 'POST', '/api/v1/service-jobs', {
      name: 'env-bad',
      taskGroups: [{ ...group, secrets: [{ id: '-x' }] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'taskGroups.0.secrets.0.id' })]);

    const created = await http(url, 'POST', '/api/v1/service-jobs', {
      name: 'env-web',
      taskGroups: [{ ...group, secrets: [{ id: 'extra' }] }],
    });
    expect(created.status).toBe(201);
    const refs = [{ id: 'db', keys: ['DB_PASSWORD'] }, { id: 'extra' }];
    expect(created.body.taskGroups[0].secrets).toEqual(refs);
    expect((await http(url, 'POST', '/api/v1/service-jobs/env-web/start')).status).toBe(200);
    const job = await waitForSummary(url, 'env-web', { running: 1 });
    const allocId = job.taskGroups[0]!.allocations[0]!.id;
    const instance = await http(url, 'GET', `/api/v1/jobs/${allocId}`);
    expect(instance.body.secrets).toEqual(refs);
    let log = '';
    await waitUntil(async () => {
      log = (await http(url, 'GET', `/api/v1/jobs/${allocId}/logs`, undefined, { accept: 'text/plain' }))
        .text;
      return log.includes('token ');
    });
    expect(log).toContain('DB_PASSWORD present: true');
    expect(log).toContain(`password ${sha256(marker)}`);
    expect(log).toContain(`token ${sha256(`t-${marker}`)}`);
    expect((await http(url, 'POST', '/api/v1/service-jobs/env-web/stop')).status).toBe(200);
    await waitForSummary(url, 'env-web', { running: 0, complete: 1 });
  });

  it("leaves the value in no table, topic, job log or Spindle's own output", async () => {
    // Let the relays and consumers settle what the jobs caused.
    await new Promise((r) => setTimeout(r, 500));
    const { searched, hits } = await tablesHolding(db.url, marker);
    expect(searched.map((t) => t.split('.')[0])).toEqual(
      expect.arrayContaining(['secrets', 'scheduler', 'projector']),
    );
    expect(hits).toEqual([]);
    // The search finds what is there: key names are in the events, and the jobs' log lines.
    expect((await tablesHolding(db.url, 'DB_PASSWORD present')).hits).toEqual(['log_collector.log_lines']);
    if (kafka) {
      expect(await kafkaMessagesHolding(marker, db.name)).toEqual([]);
      expect((await kafkaMessagesHolding('DB_PASSWORD present', db.name)).length).toBeGreaterThan(0);
    }
    const jobs = (await http(url, 'GET', '/api/v1/jobs?limit=100')).body.items as { id: string }[];
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    for (const job of jobs) {
      const log = await http(url, 'GET', `/api/v1/jobs/${job.id}/logs`, undefined, { accept: 'text/plain' });
      expect(log.text).not.toContain(marker);
    }
    expect((await http(url, 'GET', '/api/v1/jobs?limit=100')).text).not.toContain(marker);
    expect((await http(url, 'GET', '/api/v1/functions')).text).not.toContain(marker);
    expect((await http(url, 'GET', '/api/v1/service-jobs')).text).not.toContain(marker);
    expect((await http(url, 'GET', '/compat/genvid/v1/jobs')).text).not.toContain(marker);
    expect(output.text()).toContain('listening on'); // the capture works
    expect(output.text()).not.toContain(marker);
  });

  it('rotates the master key: every secret stays readable, and then needs only the new key', async () => {
    const oldKey = readFileSync(masterKeyFileOf(dataDir), 'utf8').trim();
    const newKey = randomBytes(32).toString('base64');
    await spindle!.stop();
    await start({ SPINDLE_MASTER_KEY: newKey, SPINDLE_MASTER_KEY_PREVIOUS: oldKey });
    // Readable while the rotation runs, and written under the new key meanwhile.
    expect((await http(url, 'GET', '/api/v1/secrets/db')).body.values.DB_PASSWORD).toBe(marker);
    expect((await http(url, 'PUT', '/api/v1/secrets/later', { values: { L: 'l' } })).status).toBe(201);
    // An operator's call, on the internal listener with the installation's token (never the public port).
    const config = spindle!.app.get<SpindleConfig>(SPINDLE_CONFIG);
    const rotated = await http(config.urls.secrets, 'POST', '/internal/v1/secrets/-/rotation', undefined, {
      [INTERNAL_TOKEN_HEADER]: config.internalToken!,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.pending).toEqual({});
    expect(output.text()).toContain('master key rotation finished');

    await spindle!.stop();
    rmSync(masterKeyFileOf(dataDir)); // the old key is gone for good
    await start({ SPINDLE_MASTER_KEY: newKey });
    expect((await http(url, 'GET', '/api/v1/secrets/db')).body.values).toEqual({
      DB_USER: 'etl',
      DB_PASSWORD: marker,
    });
    expect((await http(url, 'GET', '/api/v1/secrets/extra')).body.values).toEqual({
      API_TOKEN: `t-${marker}`,
    });
    expect((await http(url, 'GET', '/api/v1/secrets/later')).body.values).toEqual({ L: 'l' });
    const job = await waitForState(url, (await submit(url, 'env-exec', { secrets: [{ id: 'db' }] })).id);
    expect(job).toMatchObject({ state: 'succeeded', result: { hash: sha256(marker) } });
  });

  if (!kafka) {
    it('refuses to start, in one line, when secrets exist but the key file is lost', async () => {
      const lostDir = mkdtempSync(join(tmpdir(), 'spindle-secrets-lost-'));
      try {
        const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = execFile(
            process.execPath,
            ['-r', '@swc-node/register', 'apps/standalone/src/main.ts'],
            {
              cwd: join(__dirname, '..', '..'),
              env: {
                PATH: process.env['PATH'],
                ...base(),
                SPINDLE_DATA_DIR: lostDir,
                MIST_PORT: '0',
                ILUM_PORT: '0',
                GENVID_PORT: '0',
                APOLLO_PORT: '0',
              },
              timeout: 90_000,
            },
            (error, _stdout, stderr) => resolve({ code: error ? (child.exitCode ?? 1) : 0, stderr }),
          );
        });
        expect(code).toBe(1);
        const lines = stderr.split('\n').filter(Boolean);
        expect(lines).toEqual([
          expect.stringMatching(
            /^spindle: the secrets master key file .*master\.key is missing.*Fix: restore/,
          ),
        ]);
      } finally {
        rmSync(lostDir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
