// The floor of an exclusive job on this machine: what a worker agent's sandbox alone does for one,
// with no Kafka, no Postgres and no scheduler. Each job is a worker of its own (WorkerSandbox) that
// runs one exec task of noop.sh and is stopped, `concurrency` at a time, as figure 3's exclusive
// context places them. Confined as a root agent confines them (job users, cgroups, the read-only
// view: each as the host gives it) and unconfined; jobs/s, each job's whole life, and the CPU the
// machine spent per job. As root, on a quiet machine.
// Usage: node -r @swc-node/register bench/tools/exclusive-floor.ts [jobs] [concurrency]
import { readFileSync } from 'node:fs';
import { DEFAULT_JOB_LIMITS, FileSystemView, JobCgroups, JobUserPool, Spawner } from '@spindle/worker';
import type { WorkerSandbox } from '@spindle/worker';
import { SandboxFixture } from '../../libs/worker/src/testing/sandbox-fixture';
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

async function measure(name: string, sandbox: () => WorkerSandbox, fx: SandboxFixture): Promise<void> {
  const lives: number[] = [];
  let next = 0;
  let failed = 0;
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < jobs) {
        const t = performance.now();
        const box = sandbox();
        const { result } = await fx.run(box, fx.spec(box, 'exec', 'noop.sh'));
        if (result.outcome !== 'succeeded') failed++;
        await box.stop();
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
  await fx.stopAll();
}

async function main(): Promise<void> {
  const fx = await SandboxFixture.create('exclusive-floor', { 'noop.sh': PROGRAMS['noop.sh'] });
  const users = JobUserPool.available() ? new JobUserPool(Math.max(16, concurrency)) : null;
  const openedCgroups = JobCgroups.open(`floor-${process.pid}`, DEFAULT_JOB_LIMITS);
  const cgroups = typeof openedCgroups === 'string' ? null : openedCgroups;
  const openedView = FileSystemView.open('auto', [fx.dir, process.cwd()]);
  const view = typeof openedView === 'string' ? null : openedView;
  try {
    await measure('unconfined', () => fx.sandbox(), fx);
    if (users) await measure('job users', () => fx.sandbox({ users }), fx);
    if (users && cgroups) await measure('job users, cgroups', () => fx.sandbox({ users, cgroups }), fx);
    if (users && cgroups && view)
      await measure('job users, cgroups, read-only view', () => fx.sandbox({ users, cgroups, view }), fx);
  } finally {
    view?.close();
    cgroups?.close();
    Spawner.shared.stop();
    fx.remove();
  }
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
