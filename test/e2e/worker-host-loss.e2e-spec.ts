import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandalone } from '@spindle/runtime';
import type { Standalone } from '@spindle/runtime';
import { TEST_KAFKA_BROKERS, createTestDatabase } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';

jest.setTimeout(90_000);

// A worker host that dies (SIGKILL: no goodbye) must not leave its jobs running: the scheduler
// notices the silence and fails them. Needs a second process, so it runs on Kafka only.
describe('a worker host that stops heartbeating', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let spindle: Standalone;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'spindle-hostloss-'));
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      KAFKA_TOPIC_PARTITIONS: '1',
      SPINDLE_DATA_DIR: dataDir,
    };
    // The standalone process keeps its own agent out of the way: it offers no slots.
    spindle = await startStandalone({ ...env, GATEWAY_PORT: '0', MIST_PORT: '0', WORKER_SLOTS: '0' }, false);
    worker = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
      env: {
        ...process.env,
        ...env,
        WORKER_PORT: '0',
        WORKER_HOST_ID: `victim-${process.pid}`,
        ARTIFACT_STORE_URL: spindle.url,
      },
      stdio: 'ignore',
      detached: true, // its own process group: the kill takes its job processes too
    });
    for (const [name, content] of Object.entries(PROGRAMS)) await upload(spindle.url, name, content);
    await registerFunction(spindle.url, 'sleep', 'tools.js', 'node', 'sleep');
  });

  afterAll(async () => {
    if (worker?.pid) killGroup(worker.pid);
    await spindle?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails the jobs of a killed host within seconds, leaving none running', async () => {
    const job = await submit(spindle.url, 'sleep', { args: { ms: 120_000 } });
    const running = await waitForState(spindle.url, job.id, ['running'], 60_000);
    expect(running.workerId).toEqual(expect.any(String));
    const killedAt = Date.now();
    killGroup(worker!.pid!);
    const done = await waitForState(
      spindle.url,
      job.id,
      ['failed', 'succeeded', 'cancelled', 'timed_out'],
      20_000,
    );
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/stopped responding|worker process ended/);
    expect(Date.now() - killedAt).toBeLessThan(12_000);
    const stillRunning = await http(spindle.url, 'GET', '/api/v1/jobs?state=running&state=starting');
    expect(stillRunning.body.items).toEqual([]);
    const lostWorker = await http(spindle.url, 'GET', `/api/v1/workers/${running.workerId}`);
    expect(lostWorker.body.state).toBe('stopped');
  });
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
