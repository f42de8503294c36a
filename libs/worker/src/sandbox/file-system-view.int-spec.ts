import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_JOB_USERS } from '@spindle/platform';
import { SandboxFixture } from '../testing/sandbox-fixture';
import { JobCgroups } from './cgroups';
import { DEFAULT_JOB_LIMITS } from './confinement';
import { FileSystemView } from './file-system-view';
import { JobUserPool } from './job-users';
import type { WorkerSandbox } from './worker-sandbox';
import type { TaskResult, TaskSpec } from './types';

jest.setTimeout(60_000);

// The view needs root (job users, mount namespaces; CI has both); elsewhere this suite says why
// it does not run.
const CHECKOUT = resolve(__dirname, '../../../..');
const probe = JobUserPool.available() ? FileSystemView.open('auto', []) : 'not root';
if (typeof probe === 'string') console.warn(`file-system-view.int-spec: not run here: ${probe}`);
else probe.close();
const describeWithView = typeof probe === 'string' ? describe.skip : describe;

// Each attempt one line `<what>=<ok|denied>`; what it finds in its /tmp on the last lines.
const PROBE = `#!/bin/sh
read -r args
arg() { echo "$args" | sed -n "s/.*\\"$1\\":\\"\\([^\\"]*\\)\\".*/\\1/p"; }
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name=ok"; else echo "$name=denied"; fi; }
try etc sh -c "echo x > /etc/spindle-view-test-$$"
try var_tmp sh -c "echo x > $(arg varTmp)"
try host_shm sh -c "echo x > $(arg hostShm)/job-$$"
try artifacts sh -c "echo x > $(arg artifacts)/planted-$$"
try other_job sh -c "echo x > $(arg other)/planted-$$"
try checkout sh -c "echo x > $(arg checkout)/planted-$$"
try own_dir sh -c 'echo mine > own.txt'
try tmp sh -c "echo $(arg mark) > /tmp/$(arg mark)"
try shm sh -c 'echo x > /dev/shm/mine'
try host_tmp_visible test -e "$(arg hostTmpFile)"
sleep "$(arg sleep)"
echo "in_tmp=$(ls -A /tmp | tr '\\n' ' ')"
`;

const NODE_PROGRAM = `
const fs = require('node:fs');
exports.tryWrite = ({ paths }) =>
  Object.fromEntries(paths.map((p) => { try { fs.writeFileSync(p, 'x'); return [p, 'ok']; } catch (e) { return [p, e.code]; } }));
`;

const PYTHON_PROGRAM = `
def try_write(paths):
    out = {}
    for p in paths:
        try:
            with open(p, "w") as f:
                f.write("x")
            out[p] = "ok"
        except OSError as e:
            out[p] = type(e).__name__
    return out
`;

describeWithView('a read-only view of the file system for job processes', () => {
  let fx: SandboxFixture;
  let view: FileSystemView;
  let artifacts: string;
  let checkoutDir: string;
  let hostShm: string;
  let hostTmpFile: string;
  // World-writable on the host: only the view keeps jobs out.
  const varTmp = `/var/tmp/spindle-view-test-${process.pid}`;
  let cgroups: JobCgroups | null;
  const pool = new JobUserPool(DEFAULT_JOB_USERS);

  beforeAll(async () => {
    // A job tree under /tmp, as every test suite's is.
    fx = await SandboxFixture.create('view', {
      'probe.sh': PROBE,
      'tools.js': NODE_PROGRAM,
      'tools.py': PYTHON_PROGRAM,
    });
    artifacts = fx.artifacts;
    // Wrong permissions everywhere a job must not write: only the view keeps it out.
    chmodSync(artifacts, 0o777);
    checkoutDir = mkdtempSync(join(CHECKOUT, 'tmp-view-'));
    chmodSync(checkoutDir, 0o777);
    hostShm = mkdtempSync('/dev/shm/spindle-view-');
    chmodSync(hostShm, 0o777);
    hostTmpFile = join(tmpdir(), `spindle-view-host-${process.pid}`);
    writeFileSync(hostTmpFile, 'the host /tmp');
    view = FileSystemView.open('readonly', [fx.dir, CHECKOUT]) as FileSystemView;
    const opened = JobCgroups.open(`view-${process.pid}`, DEFAULT_JOB_LIMITS);
    cgroups = typeof opened === 'string' ? null : opened;
  });

  afterEach(() => fx.stopAll());

  afterAll(() => {
    view.close();
    cgroups?.close();
    fx.remove();
    for (const d of [checkoutDir, hostShm, hostTmpFile, varTmp]) rmSync(d, { recursive: true, force: true });
  });

  const sandbox = (): WorkerSandbox => fx.sandbox({ users: pool, cgroups, view });

  // The directory of a job of another worker, left open to everyone by mistake (its worker's
  // directory too): only the view keeps other jobs out of it.
  async function anotherWorkersJob(): Promise<TaskSpec> {
    const box = sandbox();
    const other = fx.spec(box, 'exec', 'probe.sh', 'main', { sleep: '0' });
    await run(box, other); // gives it its directory (its user's)
    for (const dir of [other.workDir, dirname(other.workDir), dirname(dirname(other.workDir))])
      chmodSync(dir, 0o777);
    return other;
  }

  // Each stdout line `<what>=<answer>`, as a record.
  async function run(
    box: WorkerSandbox,
    task: TaskSpec,
  ): Promise<{ result: TaskResult; said: Record<string, string> }> {
    const { result, lines } = await fx.run(box, task);
    const said = Object.fromEntries(
      lines.filter((l) => l.stream === 'stdout').map((l) => [l.text.split('=')[0]!, l.text.split('=')[1]!]),
    );
    return { result, said };
  }

  it('lets an exec job write its own directory, a private /tmp and /dev/shm, and nothing else', async () => {
    const other = await anotherWorkersJob();
    const mark = `mark-${process.pid}`;
    const box = sandbox();
    const task = fx.spec(box, 'exec', 'probe.sh', 'main', {
      artifacts,
      other: other.workDir,
      checkout: checkoutDir,
      hostShm,
      hostTmpFile,
      varTmp,
      mark,
      sleep: '0',
    });
    const { result, said } = await run(box, task);

    expect(result.outcome).toBe('succeeded');
    expect(said).toMatchObject({
      etc: 'denied',
      var_tmp: 'denied',
      host_shm: 'denied',
      artifacts: 'denied',
      other_job: 'denied',
      checkout: 'denied',
      own_dir: 'ok',
      tmp: 'ok',
      shm: 'ok',
      host_tmp_visible: 'denied',
    });
    // Its /tmp held its own file and the paths of what the view keeps (the job tree, and the
    // checkout when it lies under /tmp, as a CI clone may), read-only, nothing else of the host's.
    const kept = [fx.dataDir, CHECKOUT].filter((d) => d.startsWith('/tmp/')).map((d) => d.split('/')[2]!);
    expect(said['in_tmp']!.trim().split(' ').sort()).toEqual([...new Set([...kept, mark])].sort());
    expect(existsSync(join(task.workDir, 'own.txt'))).toBe(true);
    expect(existsSync(join(tmpdir(), mark))).toBe(false);
  });

  it("gives each job a /tmp of its own, not another running job's", async () => {
    const [box, next] = [sandbox(), sandbox()];
    const first = run(box, fx.spec(box, 'exec', 'probe.sh', 'main', { mark: 'first', sleep: '1' }));
    await new Promise((r) => setTimeout(r, 300));
    const second = await run(next, fx.spec(next, 'exec', 'probe.sh', 'main', { mark: 'second', sleep: '0' }));
    const firstSaid = (await first).said;
    expect(firstSaid['in_tmp']).toContain('first');
    expect(firstSaid['in_tmp']).not.toContain('second');
    expect(second.said['in_tmp']).toContain('second');
    expect(second.said['in_tmp']).not.toContain('first');
  });

  // A runner serves tasks that arrive after it started, so its view lets it write its worker's
  // directory, which holds its tasks' directories, and no other worker's.
  it("lets node and python runners write their tasks' directories and /tmp, not the artifact cache nor another worker's job", async () => {
    const other = await anotherWorkersJob();
    const box = sandbox();
    for (const [runtime, file, entrypoint] of [
      ['node', 'tools.js', 'tryWrite'],
      ['python', 'tools.py', 'try_write'],
    ] as const) {
      const task = fx.spec(box, runtime, file, entrypoint);
      const own = join(task.workDir, 'own.txt');
      const paths = [
        own,
        '/tmp/mine',
        join(other.workDir, `planted-${runtime}`),
        join(artifacts, `planted-${runtime}`),
        join(checkoutDir, 'planted'),
        varTmp,
      ];
      const { result } = await run(box, { ...task, args: { paths } });
      expect(result).toMatchObject({ outcome: 'succeeded' });
      const wrote = (result as { result: Record<string, string> }).result;
      expect(wrote[own]).toBe('ok');
      expect(wrote['/tmp/mine']).toBe('ok');
      for (const path of paths.slice(2)) expect(wrote[path]).toMatch(/^(EROFS|OSError)$/);
      expect(existsSync(join(artifacts, `planted-${runtime}`))).toBe(false);
      expect(existsSync(join(other.workDir, `planted-${runtime}`))).toBe(false);
    }
  });
});
