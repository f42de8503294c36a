import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_KAFKA_BROKERS, createTestDatabase, eventually } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { registerFunction, submit, waitForState } from '../support/jobs';
import { AUTH, TEST_ADMIN_KEY } from '../support/auth';
import { TEST_SPINDLE_ENV } from '../support/spindle-modes';

// The topologies of separate processes, each started the way a user starts it: `npm run start:all`
// (every service its own process, the multi-machine topology on one machine) and `npm start` with
// Kafka (the `node` topology: control, projection and worker processes). A request goes gateway ->
// scheduler -> Postgres outbox -> Kafka -> projector -> read model -> gateway, a job runs in the
// worker process, an upload streams to the artifact store wherever it runs.
interface Topology {
  readonly name: string;
  readonly command: string[];
  readonly ports: Record<string, number>;
  readonly listening: readonly string[]; // the port variables a process of this topology listens on
  readonly extraEnv: Record<string, string>;
}

const SERVICE_PORT_VARIABLES = [
  'GATEWAY_PORT',
  'SCHEDULER_PORT',
  'ARTIFACT_STORE_PORT',
  'LOG_COLLECTOR_PORT',
  'SECRETS_PORT',
  'PROJECTOR_PORT',
  'WORKER_PORT',
] as const;
const portsFrom = (base: number) =>
  Object.fromEntries(SERVICE_PORT_VARIABLES.map((v, i) => [v, base + i])) as Record<string, number>;

const TOPOLOGIES: Topology[] = [
  {
    name: 'npm run start:all (every service its own process)',
    command: ['run', 'start:all'],
    ports: portsFrom(28080),
    listening: SERVICE_PORT_VARIABLES,
    extraEnv: {},
  },
  {
    name: 'npm start with Kafka (control, projection and worker processes)',
    command: ['start'],
    ports: portsFrom(28180),
    // control listens on the gateway's port, projection on the log collector's, worker on its own
    listening: ['GATEWAY_PORT', 'LOG_COLLECTOR_PORT', 'WORKER_PORT'],
    extraEnv: {},
  },
];

describe.each(TOPOLOGIES)('$name', (topology) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let processes: ChildProcess;
  let output = '';
  const gateway = `http://127.0.0.1:${topology.ports['GATEWAY_PORT']}`;
  const mistPort = topology.ports['GATEWAY_PORT']! + 7;

  beforeAll(async () => {
    db = await createTestDatabase('spindle_smoke');
    processes = spawn('npm', topology.command, {
      cwd: join(__dirname, '..', '..'),
      env: {
        ...process.env,
        ...TEST_SPINDLE_ENV,
        ...Object.fromEntries(Object.entries(topology.ports).map(([k, v]) => [k, String(v)])),
        DATABASE_URL: db.url,
        KAFKA_NAMESPACE: db.name,
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        KAFKA_TOPIC_PARTITIONS: '1',
        MIST_PORT: String(mistPort), // the gateway's Mist listener
        ILUM_PORT: '0', // the gateway's Ilum listener
        GENVID_PORT: '0', // and its Genvid one
        SPINDLE_ADMIN_KEY: TEST_ADMIN_KEY,
        SPINDLE_DIALECT_AUTH: 'open',
        APOLLO_PORT: '0', // and its Apollo one
        SPINDLE_DATA_DIR: join(tmpdir(), `spindle-smoke-${topology.ports['GATEWAY_PORT']}-${process.pid}`),
        ...topology.extraEnv,
      },
      detached: true, // its own process group, so the whole tree can be stopped
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    processes.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    processes.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // Up means readable: the supervisor says so once the gateway's process sees the default context.
    await eventually(
      async () => (output.includes('Spindle is up') ? true : undefined),
      150_000,
      'the supervisor to say Spindle is up',
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- output ---\n${output.slice(-5000)}`);
    });
  }, 180_000);

  afterAll(async () => {
    if (processes?.pid) {
      process.kill(-processes.pid, 'SIGTERM');
      await new Promise((r) => processes.once('exit', r));
    }
    await db?.drop();
  }, 30_000);

  it('runs one process per part, each healthy with Kafka and Postgres up', async () => {
    for (const variable of topology.listening) {
      const res = await http(`http://127.0.0.1:${topology.ports[variable]}`, 'GET', '/health');
      expect(res.status).toBe(200);
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
    const mist = await http(`http://127.0.0.1:${mistPort}`, 'GET', `/v2/api/jobs/${job.id}`);
    expect(mist.body).toMatchObject({ jobId: job.id, status: 'finished', jobResult: 42 });
  }, 90_000);
});
