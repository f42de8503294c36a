import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogStream, Runtime } from '@spindle/contracts';
import { DEFAULT_JOB_LIMITS, traversableForJobs } from '../sandbox/confinement';
import type { ConfinementPolicy, HostConfinement } from '../sandbox/confinement';
import type { TaskResult, TaskSpec } from '../sandbox/types';
import { WorkerSandbox } from '../sandbox/worker-sandbox';

// What the sandbox's suites share: a job tree under a fresh data directory, laid out and opened
// to job users as a worker agent's is (`<dir>/artifacts` holding the programs, `<dir>/workers/<w>`
// and each task's `<dir>/workers/<w>/jobs/<id>`), workers made in it and stopped after each test,
// and the tasks they run.
export class SandboxFixture {
  private readonly sandboxes: WorkerSandbox[] = [];
  private serial = 0;

  private constructor(
    readonly dataDir: string,
    readonly dir: string,
  ) {}

  // `programs`: file name → text, written into artifacts/ read-only (executable: 0555, as the
  // artifact cache keeps them).
  static async create(name: string, programs: Readonly<Record<string, string>>): Promise<SandboxFixture> {
    // A data directory as a test makes it (mkdtemp: 0700): opened for job users as the agent does.
    const dataDir = mkdtempSync(join(tmpdir(), `spindle-${name}-`));
    const fixture = new SandboxFixture(dataDir, join(dataDir, 'worker', 'host'));
    const blocked = await traversableForJobs(dataDir, join(fixture.dir, 'workers'));
    if (blocked !== null) throw new Error(`job users cannot pass through ${blocked}`);
    mkdirSync(fixture.artifacts, { recursive: true });
    for (const [file, text] of Object.entries(programs))
      writeFileSync(join(fixture.artifacts, file), text, { mode: 0o555 });
    return fixture;
  }

  get artifacts(): string {
    return join(this.dir, 'artifacts');
  }

  // A worker of its own, stopped by stopAll. With `confinement` its processes run confined
  // (`policy` over job users, the network and DEFAULT_JOB_LIMITS), else as this process's user.
  sandbox(
    confinement?: Omit<HostConfinement, 'policy'> & { policy?: Partial<ConfinementPolicy> },
  ): WorkerSandbox {
    const worker = `w${++this.serial}`;
    const box = new WorkerSandbox({
      workerId: worker,
      baseDir: join(this.dir, 'workers', worker),
      confinement: confinement && {
        ...confinement,
        policy: { separateUsers: true, network: true, limits: DEFAULT_JOB_LIMITS, ...confinement.policy },
      },
    });
    this.sandboxes.push(box);
    return box;
  }

  // A task of `program` in artifacts/ for the worker `box`, in a directory of its own there.
  spec(
    box: WorkerSandbox,
    runtime: Runtime,
    program: string,
    entrypoint = '',
    args: Record<string, unknown> = {},
  ): TaskSpec {
    const jobId = `job-${this.serial}-${Math.random().toString(36).slice(2, 8)}`;
    return {
      jobId,
      runtime,
      programPath: join(this.artifacts, program),
      entrypoint,
      args,
      workDir: box.taskDirectory(jobId),
      env: { SPINDLE_JOB_ID: jobId },
      performTimeoutMs: 30_000,
    };
  }

  // Runs the task to its end: its result and its output lines.
  async run(
    box: WorkerSandbox,
    task: TaskSpec,
  ): Promise<{ result: TaskResult; lines: { stream: LogStream; text: string }[] }> {
    const lines: { stream: LogStream; text: string }[] = [];
    const running = await box.run(task, { line: (stream, text) => lines.push({ stream, text }) });
    return { result: await running.done, lines };
  }

  // After each test.
  async stopAll(): Promise<void> {
    await Promise.all(this.sandboxes.splice(0).map((s) => s.stop()));
  }

  // After the suite.
  remove(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
