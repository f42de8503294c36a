// The floor of an exclusive job on this machine: what a worker agent's sandbox alone does for one,
// with no Kafka, no Postgres and no scheduler. Each job is a worker of its own (WorkerSandbox) that
// runs one exec task of noop.sh and is stopped, `concurrency` at a time, as figure 3's exclusive
// context places them. Confined as a root agent confines them (job users, cgroups, the read-only
// view: each as the host gives it) and unconfined; jobs/s, each job's whole life, and the CPU the
// machine spent per job. As root, on a quiet machine.
// Usage: node -r @swc-node/register bench/tools/exclusive-floor.ts [jobs] [concurrency]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_JOB_LIMITS,
  FileSystemView,
  JobCgroups,
  JobUserPool,
  Spawner,
  WorkerSandbox,
  traversableForJobs,
} from '@spindle/worker';
import type { HostConfinement } from '@spindle/worker';
import { PROGRAMS } from '../fixtures/programs';

const jobs = Number(process.argv[2] ?? 300);
const concurrency = Number(process.argv[3] ?? 16);
const TICKS = 100; // USER_HZ

// CPU seconds the whole machine spent (every core's busy time in /proc/stat): the jobs' processes,
// the spawner, this process and the kernel's work for them (cgroups, namespaces, mounts). The
// machine should be quiet otherwise.
function cpuSeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
}

// A job tree laid out and opened to job users as a worker agent's is: artifacts/ holding the
// program, a directory per worker and per job under workers/.
const dataDir = mkdtempSync(join(tmpdir(), 'spindle-exclusive-floor-'));
const jobTree = join(dataDir, 'worker', 'host');
const program = join(jobTree, 'artifacts', 'noop.sh');
let workers = 0;

// One exclusive job: a worker of its own runs noop.sh once and is stopped. Its outcome.
async function oneJob(confinement: Omit<HostConfinement, 'policy'> | null): Promise<string> {
  const workerId = `w${++workers}`;
  const box = new WorkerSandbox({
    workerId,
    baseDir: join(jobTree, 'workers', workerId),
    confinement: confinement
      ? { ...confinement, policy: { separateUsers: true, network: true, limits: DEFAULT_JOB_LIMITS } }
      : undefined,
  });
  try {
    const jobId = `job-${workerId}`;
    const running = await box.run(
      {
        jobId,
        runtime: 'exec',
        programPath: program,
        entrypoint: '',
        args: {},
        workDir: box.taskDirectory(jobId),
        env: { SPINDLE_JOB_ID: jobId },
        performTimeoutMs: 30_000,
      },
      { line: () => undefined },
    );
    return (await running.done).outcome;
  } finally {
    await box.stop();
  }
}

async function measure(name: string, confinement: Omit<HostConfinement, 'policy'> | null): Promise<void> {
  const lives: number[] = [];
  let next = 0;
  let failed = 0;
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < jobs) {
        const t = performance.now();
        if ((await oneJob(confinement)) !== 'succeeded') failed++;
        lives.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds() - cpuBefore;
  lives.sort((a, b) => a - b);
  const q = (p: number) => lives[Math.min(lives.length - 1, Math.ceil(lives.length * p) - 1)]!.toFixed(0);
  console.log(
    `${name.padEnd(40)} ${(jobs / seconds).toFixed(0).padStart(5)} jobs/s; life p50 ${q(0.5)} p99 ${q(0.99)} ms; CPU ${((cpu * 1000) / jobs).toFixed(1)} ms a job; ${failed} failed`,
  );
}

async function main(): Promise<void> {
  const blocked = await traversableForJobs(dataDir, join(jobTree, 'workers'));
  if (blocked !== null) throw new Error(`job users cannot pass through ${blocked}`);
  mkdirSync(join(jobTree, 'artifacts'), { recursive: true });
  writeFileSync(program, PROGRAMS['noop.sh'], { mode: 0o555 });
  const users = JobUserPool.available() ? new JobUserPool(Math.max(16, concurrency)) : null;
  const openedCgroups = JobCgroups.open(`floor-${process.pid}`, DEFAULT_JOB_LIMITS);
  const cgroups = typeof openedCgroups === 'string' ? null : openedCgroups;
  const openedView = FileSystemView.open('auto', [jobTree, process.cwd()]);
  const view = typeof openedView === 'string' ? null : openedView;
  try {
    await measure('unconfined', null);
    if (users) await measure('job users', { users });
    if (users && cgroups) await measure('job users, cgroups', { users, cgroups });
    if (users && cgroups && view)
      await measure('job users, cgroups, read-only view', { users, cgroups, view });
  } finally {
    view?.close();
    cgroups?.close();
    Spawner.shared.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
