import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from '../support/http';
import { createContext, processAlive, registerFunction, submit, upload, waitForState } from '../support/jobs';
import type { Job } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

jest.setTimeout(120_000);

const SLOTS = 4;

const PROGRAMS = {
  'pool.js': `
const fs = require('node:fs');
const path = require('node:path');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Holds until the test opens the gate: how long a job runs is up to the test, not to the clock.
exports.gate = async (args) => { while (!fs.existsSync(args.gate)) await sleep(25); return process.pid; };
exports.sleep = async (args) => { await sleep(args.ms); return process.pid; };
exports.spin = () => { for (;;) {} };
exports.where = (args, ctx) => {
  fs.writeFileSync('out.txt', ctx.jobId);
  return {
    jobId: process.env.SPINDLE_JOB_ID,
    ctxJobId: ctx.jobId,
    cwd: process.cwd(),
    workDir: ctx.workDir,
    wrote: fs.readFileSync(path.join(ctx.workDir, 'out.txt'), 'utf8'),
  };
};
`,
  'where.py': `
import os
import spindle

def where():
    ctx = spindle.context()
    with open("out.txt", "w") as f:
        f.write(ctx.job_id)
    with open(os.path.join(ctx.work_dir, "out.txt")) as f:
        wrote = f.read()
    return {"jobId": os.environ["SPINDLE_JOB_ID"], "ctxJobId": ctx.job_id, "cwd": os.getcwd(),
            "workDir": ctx.work_dir, "wrote": wrote}
`,
} as const;

interface Worker {
  id: string;
  context: string;
  state: string;
  pid: number | null;
  stopReason: string | null;
}

describe.each(SPINDLE_MODES)('shared workers over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'shared', env: { WORKER_SLOTS: String(SLOTS), ...env } });
  let gates = 0;

  beforeAll(async () => {
    for (const [name, content] of Object.entries(PROGRAMS)) await upload(suite.url, name, content);
    for (const fn of ['gate', 'sleep', 'spin', 'where'])
      await registerFunction(suite.url, fn, 'pool.js', 'node', fn);
    await registerFunction(suite.url, 'pywhere', 'where.py', 'python', 'where');
  });

  // In the job tree (<data dir>/worker), which jobs see read-only; the rest of the host's /tmp,
  // where the data directory lies, is hidden from them by their view of the file system.
  const newGate = (): string => join(suite.dataDir, 'worker', `gate-${++gates}`);
  const open = (gate: string): void => writeFileSync(gate, 'open');

  async function workers(context: string, states = ['starting', 'running', 'stopping']): Promise<Worker[]> {
    const query = states.map((s) => `state=${s}`).join('&');
    return (await http(suite.url, 'GET', `/api/v1/workers?context=${context}&${query}&limit=500`)).body.items;
  }

  async function jobsIn(context: string, state: string): Promise<Job[]> {
    return (await http(suite.url, 'GET', `/api/v1/jobs?context=${context}&state=${state}&limit=500`)).body
      .items;
  }

  it('runs no more of a shared context’s jobs at once than its maxJobs; the rest wait queued', async () => {
    await createContext(suite.url, 'tiny', { workerMode: 'shared', maxJobs: 1, downtime: '1s' });
    const gate = newGate();
    const jobs = [];
    for (let i = 0; i < 3; i++)
      jobs.push(await submit(suite.url, 'gate', { args: { gate }, context: 'tiny' }));
    await waitLong(async () => (await jobsIn('tiny', 'running')).length === 1);
    // Long enough for the dispatcher to have placed the others (it passes every 250 ms) if it would.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await jobsIn('tiny', 'running')).toHaveLength(1);
    expect(await jobsIn('tiny', 'queued')).toHaveLength(2);
    expect(await workers('tiny')).toHaveLength(1);
    open(gate);
    const done = await Promise.all(jobs.map((j) => waitForState(suite.url, j.id, undefined, 60_000)));
    expect(done.map((j) => j.state)).toEqual(done.map(() => 'succeeded'));
    // One after the other, in submission order, by the host's own clock.
    for (let i = 1; i < done.length; i++)
      expect(Date.parse(done[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done[i - 1]!.finishedAt!));
    await waitLong(async () => (await workers('tiny')).length === 0);
  });

  it('grows a shared pool by a worker when no worker has room (one is stopping), within maxJobs', async () => {
    await createContext(suite.url, 'pool', { workerMode: 'shared', maxJobs: 2, downtime: '1s' });
    const gate = newGate();
    const first = await waitForState(
      suite.url,
      (await submit(suite.url, 'gate', { args: { gate }, context: 'pool' })).id,
      ['running'],
    );
    // A graceful stop: the worker lets its job end but takes no new one.
    expect((await http(suite.url, 'DELETE', `/api/v1/workers/${first.workerId}?timeout=60s`)).status).toBe(
      202,
    );
    const second = await waitForState(
      suite.url,
      (await submit(suite.url, 'gate', { args: { gate }, context: 'pool' })).id,
      ['running'],
    );
    expect(second.workerId).not.toBe(first.workerId);
    // Two of the context's jobs run: a third waits, though the new worker has room for it.
    const third = await submit(suite.url, 'gate', { args: { gate }, context: 'pool' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await http(suite.url, 'GET', `/api/v1/jobs/${third.id}`)).body.state).toBe('queued');
    expect(await workers('pool')).toHaveLength(2);
    open(gate);
    const done = await Promise.all([first, second, third].map((j) => waitForState(suite.url, j.id)));
    expect(done.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done[2]!.workerId).toBe(second.workerId);
    await waitLong(async () => (await workers('pool')).length === 0);
  });

  it('keeps the precreated worker of a pool after its downtime', async () => {
    await createContext(suite.url, 'warmpool', {
      workerMode: 'shared',
      maxJobs: 2,
      precreated: true,
      downtime: '500ms',
    });
    await waitLong(async () => (await workers('warmpool', ['running'])).length === 1);
    const [precreated] = await workers('warmpool', ['running']);
    const gate = newGate();
    const jobs = await Promise.all(
      [1, 2].map(() => submit(suite.url, 'gate', { args: { gate }, context: 'warmpool' })),
    );
    await waitLong(async () => (await jobsIn('warmpool', 'running')).length === 2);
    open(gate);
    const done = await Promise.all(jobs.map((j) => waitForState(suite.url, j.id)));
    expect(done.map((j) => j.workerId)).toEqual([precreated!.id, precreated!.id]);
    // Well past its downtime, the precreated one is still there.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await http(suite.url, 'GET', `/api/v1/workers/${precreated!.id}`)).body.state).toBe('running');
  });

  // The submit places it itself (submit-placement.ts): no dispatcher pass between its record and
  // its assignment, and its answer says so.
  it('answers a submit to a warm pool with the job already assigned to its worker', async () => {
    await createContext(suite.url, 'ready', {
      workerMode: 'shared',
      maxJobs: 1,
      precreated: true,
      downtime: '1h',
    });
    await waitLong(async () => (await workers('ready', ['running'])).length === 1);
    const [worker] = await workers('ready', ['running']);
    const gate = newGate();
    const placed = await submit(suite.url, 'gate', { args: { gate }, context: 'ready' });
    expect(placed).toMatchObject({ state: 'starting', workerId: worker!.id });
    // The context's maxJobs (1) is taken: the next waits in the queue, for the dispatcher.
    const next = await submit(suite.url, 'gate', { args: { gate }, context: 'ready' });
    expect(next).toMatchObject({ state: 'queued', workerId: null });
    open(gate);
    const done = await Promise.all([placed, next].map((j) => waitForState(suite.url, j.id)));
    expect(done.map((j) => [j.state, j.workerId])).toEqual([
      ['succeeded', worker!.id],
      ['succeeded', worker!.id],
    ]);
  });

  it('shows the pid of the worker’s runner process, not the agent’s', async () => {
    await createContext(suite.url, 'pids', { workerMode: 'shared', maxJobs: 2, downtime: '1s' });
    const job = await waitForState(
      suite.url,
      (await submit(suite.url, 'sleep', { args: { ms: 0 }, context: 'pids' })).id,
    );
    expect(job.state).toBe('succeeded');
    expect(job.result).not.toBe(process.pid); // the agent runs in this process
    const worker = await http(suite.url, 'GET', `/api/v1/workers/${job.workerId}`);
    expect(worker.body.pid).toBe(job.result);
    expect(job.pid).toBe(job.result);
    const listed = (await workers('pids')).find((w) => w.id === job.workerId);
    expect(listed?.pid).toBe(job.result);
  });

  it('gives every node and python job its own directory and SPINDLE_JOB_ID in a shared worker', async () => {
    await createContext(suite.url, 'dirs', { workerMode: 'shared', maxJobs: 4, downtime: '1s' });
    for (const fn of ['where', 'where', 'pywhere', 'pywhere']) {
      const job = await waitForState(
        suite.url,
        (await submit(suite.url, fn, { args: {}, context: 'dirs' })).id,
      );
      expect(job.state).toBe('succeeded');
      const result = job.result as Record<string, string>;
      expect(result).toMatchObject({ jobId: job.id, ctxJobId: job.id, wrote: job.id });
      expect(result.cwd).toBe(result.workDir);
      expect(result.workDir).toContain(job.id);
    }
  });

  it('kills a shared runner that a timed-out CPU-bound job keeps busy; later jobs run on a fresh one', async () => {
    await createContext(suite.url, 'busy', { workerMode: 'shared', maxJobs: 4, downtime: '10s' });
    const bystander = await submit(suite.url, 'sleep', { args: { ms: 120_000 }, context: 'busy' });
    const first = await waitForState(suite.url, bystander.id, ['running']);
    const spinner = await submit(suite.url, 'spin', { args: {}, context: 'busy', performTimeout: '2s' });
    const spun = await waitForState(suite.url, spinner.id, undefined, 60_000);
    expect(spun.state).toBe('timed_out');
    expect(Date.parse(spun.finishedAt!) - Date.parse(spun.startedAt!)).toBeGreaterThanOrEqual(2_000);
    const failed = await waitForState(suite.url, bystander.id, undefined, 60_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toContain(`after job ${spinner.id} timed out`);
    await waitLong(() => !processAlive(first.pid!));
    const later = await waitForState(
      suite.url,
      (await submit(suite.url, 'sleep', { args: { ms: 0 }, context: 'busy' })).id,
    );
    expect(later.state).toBe('succeeded');
    expect(later.workerId).toBe(first.workerId);
    expect(later.result).not.toBe(first.pid);
    // The worker now shows its fresh runner.
    await waitLong(
      async () =>
        (await http(suite.url, 'GET', `/api/v1/workers/${first.workerId}`)).body.pid === later.result,
    );
  });

  it('measures a timed-out job by the host’s clock: finishedAt − startedAt is at least performTimeout', async () => {
    const job = await submit(suite.url, 'sleep', { args: { ms: 60_000 }, performTimeout: '1s' });
    const done = await waitForState(suite.url, job.id);
    expect(done.state).toBe('timed_out');
    expect(Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(1_000);
  });
});

// This suite gives workers up to 30 s to come and go (twice the usual wait).
function waitLong(check: () => boolean | Promise<boolean>): Promise<void> {
  return waitUntil(check, 30_000);
}
