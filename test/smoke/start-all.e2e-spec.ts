import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_KAFKA_BROKERS, createTestDatabase, eventually } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { registerFunction, submit, waitForState } from '../support/jobs';
import { AUTH, TEST_ADMIN_KEY } from '../support/auth';

// The real topology: `npm run start:all` starts every service as its own process; a request goes
// gateway -> Kafka -> scheduler -> Postgres outbox -> Kafka -> projector -> read model -> gateway.
const PORTS = {
  GATEWAY_PORT: 28080,
  SCHEDULER_PORT: 28081,
  ARTIFACT_STORE_PORT: 28082,
  LOG_COLLECTOR_PORT: 28083,
  SECRETS_PORT: 28084,
  PROJECTOR_PORT: 28085,
  WORKER_PORT: 28086,
};

describe('npm run start:all (every service its own process)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let processes: ChildProcess;
  let output = '';
  const gateway = `http://127.0.0.1:${PORTS.GATEWAY_PORT}`;

  beforeAll(async () => {
    db = await createTestDatabase('spindle_smoke');
    processes = spawn('npm', ['run', 'start:all'], {
      cwd: join(__dirname, '..', '..'),
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(PORTS).map(([k, v]) => [k, String(v)])),
        DATABASE_URL: db.url,
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        KAFKA_TOPIC_PARTITIONS: '1',
        MIST_PORT: '28087', // the gateway's Mist listener
        ILUM_PORT: '0', // the gateway's Ilum listener
        GENVID_PORT: '28089', // and its Genvid one
        SPINDLE_ADMIN_KEY: TEST_ADMIN_KEY,
        SPINDLE_DIALECT_AUTH: 'open',
        APOLLO_PORT: '0', // and its Apollo one
      },
      detached: true, // its own process group, so the whole tree can be stopped
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    processes.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    processes.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      async () => {
        const checks = await Promise.all(
          Object.values(PORTS).map((port) =>
            http(`http://127.0.0.1:${port}`, 'GET', '/health').then(
              (r) => r.status,
              () => 0,
            ),
          ),
        );
        return checks.every((s) => s === 200) ? true : undefined;
      },
      120_000,
      'every service to answer /health with 200',
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- output ---\n${output.slice(-5000)}`);
    });
  }, 150_000);

  afterAll(async () => {
    if (processes?.pid) {
      process.kill(-processes.pid, 'SIGTERM');
      await new Promise((r) => processes.once('exit', r));
    }
    await db?.drop();
  }, 30_000);

  it('runs seven processes, each healthy with Kafka and Postgres up', async () => {
    for (const port of Object.values(PORTS)) {
      const res = await http(`http://127.0.0.1:${port}`, 'GET', '/health');
      expect(res.body.info.kafka.status).toBe('up');
      expect(res.body.info.postgres.status).toBe('up');
    }
  });

  it('passes a request through gateway, Kafka, the scheduler and the projector, and reads it back', async () => {
    const created = await http(gateway, 'POST', '/api/v1/contexts', {
      name: 'smoke',
      maxJobs: 4,
      workerMode: 'shared',
    });
    expect(created.status).toBe(201);
    const read = await http(gateway, 'GET', '/api/v1/contexts/smoke');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ name: 'smoke', maxJobs: 4, workerMode: 'shared' });
    // The broker is shared with the other suites (one installation per Kafka cluster, see docs).
    const list = await http(gateway, 'GET', '/api/v1/contexts?limit=500');
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['default', 'smoke']),
    );
  });

  it('streams an upload through the gateway to the artifact store process and back', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('print(1)\n')], { type: 'text/x-python' }), 'smoke.py');
    const created = await fetch(`${gateway}/api/v1/artifacts`, { method: 'POST', body: form, headers: AUTH });
    expect(created.status).toBe(201);
    const download = await fetch(`${gateway}/api/v1/artifacts/smoke.py/content`, { headers: AUTH });
    expect(await download.text()).toBe('print(1)\n');
  });

  it('runs a job on the worker process and reads its result and logs through the gateway', async () => {
    const form = new FormData();
    form.append('file', new Blob([PROGRAMS['sum.js']]), 'smoke-sum.js');
    expect(
      (await fetch(`${gateway}/api/v1/artifacts`, { method: 'POST', body: form, headers: AUTH })).status,
    ).toBe(201);
    await registerFunction(gateway, 'smoke-sum', 'smoke-sum.js', 'node', 'sum');
    const job = await submit(gateway, 'smoke-sum', { args: { a: 20, b: 22 } });
    const done = await waitForState(gateway, job.id, undefined, 60_000);
    expect(done).toMatchObject({ state: 'succeeded', result: 42 });
    // The same job, as a Mist client sees it on Mist's own port.
    const mist = await http('http://127.0.0.1:28087', 'GET', `/v2/api/jobs/${job.id}`);
    expect(mist.body).toMatchObject({ jobId: job.id, status: 'finished', jobResult: 42 });
  }, 90_000);
});
