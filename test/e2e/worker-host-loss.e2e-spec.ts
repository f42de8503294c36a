import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_KAFKA_BROKERS } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';
import { spindleSuite } from '../support/spindle-suite';
import { AUTH } from '../support/auth';

jest.setTimeout(90_000);

const KAFKA = { KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), KAFKA_TOPIC_PARTITIONS: '1' };

// A worker host that dies (SIGKILL: no goodbye) must not leave its jobs running: the scheduler
// notices the silence and fails them, or puts them back in their queue where their function
// allows a retry. Needs other processes, so it runs on Kafka only.
describe('a worker host that stops heartbeating', () => {
  const workers: ChildProcess[] = [];
  // Declared before the suite's own afterAll, so it runs first: the hosts go before Spindle does.
  afterAll(() => {
    for (const worker of workers) if (worker.pid) killGroup(worker.pid);
  });
  // The standalone process keeps its own agent out of the way: it offers no slots.
  const suite = spindleSuite({
    name: 'hostloss',
    env: { ...KAFKA, MIST_PORT: '0', ILUM_PORT: '0', GENVID_PORT: '0', APOLLO_PORT: '0', WORKER_SLOTS: '0' },
  });

  // A worker host of its own: a separate process, its own process group (a kill takes its jobs).
  function startWorkerHost(name: string): ChildProcess {
    const worker = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
      env: {
        ...process.env,
        ...KAFKA,
        DATABASE_URL: suite.databaseUrl,
        KAFKA_NAMESPACE: suite.kafkaNamespace,
        SPINDLE_DATA_DIR: suite.dataDir,
        WORKER_PORT: '0',
        WORKER_HOST_ID: `${name}-${process.pid}`,
        // The standalone serves service-to-service routes on its loopback internal listener only.
        ARTIFACT_STORE_URL: suite.spindle.internalUrl,
        LOG_COLLECTOR_URL: suite.spindle.internalUrl,
        SECRETS_URL: suite.spindle.internalUrl,
      },
      stdio: 'ignore',
      detached: true,
    });
    workers.push(worker);
    return worker;
  }

  beforeAll(async () => {
    for (const [name, content] of Object.entries(PROGRAMS)) await upload(suite.url, name, content);
    await upload(suite.url, 'gate.js', GATE_PROGRAM);
    await registerFunction(suite.url, 'sleep', 'tools.js', 'node', 'sleep');
    const patient = await http(suite.url, 'POST', '/api/v1/functions', {
      name: 'patient',
      artifact: 'gate.js',
      runtime: 'node',
      entrypoint: 'gate',
      retries: 1,
    });
    expect(patient.status).toBe(201);
    expect(patient.body.retries).toBe(1);
  });

  it('fails the jobs of a killed host within seconds, leaving none running', async () => {
    const worker = startWorkerHost('victim');
    const job = await submit(suite.url, 'sleep', { args: { ms: 120_000 } });
    const running = await waitForState(suite.url, job.id, ['running'], 60_000);
    expect(running.workerId).toEqual(expect.any(String));
    const killedAt = Date.now();
    killGroup(worker.pid!);
    const done = await waitForState(
      suite.url,
      job.id,
      ['failed', 'succeeded', 'cancelled', 'timed_out'],
      20_000,
    );
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/stopped responding|worker process ended/);
    // The promise: no job stays running past 10 s after its host died.
    expect(Date.now() - killedAt).toBeLessThanOrEqual(10_000);
    const stillRunning = await http(suite.url, 'GET', '/api/v1/jobs?state=running&state=starting');
    expect(stillRunning.body.items).toEqual([]);
    // The dispatcher fails the job, then stops its worker: a second command, so read until it shows.
    const deadline = Date.now() + 20_000;
    let lostWorker = await http(suite.url, 'GET', `/api/v1/workers/${running.workerId}`);
    while (lostWorker.body.state !== 'stopped' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      lostWorker = await http(suite.url, 'GET', `/api/v1/workers/${running.workerId}`);
    }
    expect(lostWorker.body.state).toBe('stopped');
  });

  it('puts a job of a function with retries back in its queue, and runs it again on another host', async () => {
    const worker = startWorkerHost('doomed');
    // In the job tree, which jobs see (read-only) in their view of the file system.
    const gate = join(suite.dataDir, 'worker', 'gate');
    const job = await submit(suite.url, 'patient', { args: { gate } });
    const running = await waitForState(suite.url, job.id, ['running'], 60_000);
    expect(running).toMatchObject({ attempt: 1 });
    // The job keeps the policy it was submitted with.
    expect((await http(suite.url, 'PUT', '/api/v1/functions/patient', { retries: 0 })).status).toBe(200);
    killGroup(worker.pid!);
    // No other host yet: it waits in its queue for its second attempt.
    const requeued = await waitForState(suite.url, job.id, ['queued', 'failed'], 20_000);
    expect(requeued).toMatchObject({ state: 'queued', attempt: 2, workerId: null, startedAt: null });
    startWorkerHost('rescuer');
    const again = await waitForState(suite.url, job.id, ['running'], 60_000);
    expect(again.workerId).not.toBe(running.workerId);
    writeFileSync(gate, 'open');
    const done = await waitForState(suite.url, job.id, undefined, 30_000);
    expect(done).toMatchObject({ state: 'succeeded', result: 'through', attempt: 2 });
    const events = await fetch(`${suite.url}/api/v1/jobs/${job.id}/events`, { headers: AUTH });
    const types = (await events.text()).match(/^event: (\w+)$/gm)?.map((l) => l.slice(7));
    expect(types).toEqual([
      'JobSubmitted',
      'JobAssigned',
      'JobStarted',
      'JobRequeued',
      'JobAssigned',
      'JobStarted',
      'JobSucceeded',
    ]);
  });
});

// Waits for the test to open its gate: how long the job runs is up to the test.
const GATE_PROGRAM = `
const fs = require('node:fs');
exports.gate = async (args) => {
  while (!fs.existsSync(args.gate)) await new Promise((r) => setTimeout(r, 25));
  return 'through';
};
`;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
