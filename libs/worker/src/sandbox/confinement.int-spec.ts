import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_JOB_USERS } from '@spindle/platform';
import { SandboxFixture } from '../testing/sandbox-fixture';
import { DEFAULT_JOB_LIMITS } from './confinement';
import type { ConfinementPolicy } from './confinement';
import { JobUserPool } from './job-users';
import type { WorkerSandbox } from './worker-sandbox';
import type { TaskResult, TaskSpec } from './types';

jest.setTimeout(60_000);

// Job users need root (CI runs as root); elsewhere this suite says why it does not run.
const asRoot = JobUserPool.available();
const describeAsRoot = asRoot ? describe : describe.skip;
if (!asRoot) console.warn('confinement.int-spec: not root, so job users cannot be tested here');

// What a hostile job tries, each attempt reported as one line `<what>=<ok|denied>`.
const HOSTILE = `#!/bin/sh
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name=ok"; else echo "$name=denied"; fi; }
read -r args
agent=$(echo "$args" | sed -n 's/.*"agent":\\([0-9]*\\).*/\\1/p')
other=$(echo "$args" | sed -n 's/.*"other":"\\([^"]*\\)".*/\\1/p')
artifact=$(echo "$args" | sed -n 's/.*"artifact":"\\([^"]*\\)".*/\\1/p')
try environ cat /proc/$agent/environ
try other_dir ls "$other"
try other_file cat "$other/secret.txt"
try artifact_write sh -c "echo tampered >> '$artifact'"
try kill_agent kill -KILL $agent
try own_dir sh -c 'echo mine > own.txt'
echo "uid=$(id -u)"
echo "nofile=$(ulimit -n)"
setsid sh -c 'sleep 300' >/dev/null 2>&1 < /dev/null &
echo "daemon=$!"
sleep 0.3 # by now out of the job's process group, which is killed when the job's process ends
`;

const NODE_PROGRAM = `
exports.uid = () => process.getuid();
exports.forge = async () => {
  const fs = require('node:fs');
  fs.writeSync(3, 'null\\n');
  fs.writeSync(3, JSON.stringify({ type: 'result', taskId: 'someone-else', ok: 'yes' }) + '\\n');
  fs.writeSync(3, '{"type":"log"}\\n');
  return 'still here';
};
`;

const PYTHON_PROGRAM = `
import os

def uid():
    return os.getuid()

def forge():
    os.write(1, b'{"type":"result","taskId":"someone-else","ok":true,"value":1}\\n')
    os.write(3, b'null\\n')
    return "still here"

def reach(port):
    import socket
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return "connected"
    except OSError as e:
        return "refused: " + type(e).__name__
    finally:
        s.close()
`;

describeAsRoot('a confined worker sandbox (job users, limits, no network)', () => {
  let fx: SandboxFixture;
  let artifact: string;
  const pool = new JobUserPool(DEFAULT_JOB_USERS);

  beforeAll(async () => {
    fx = await SandboxFixture.create('confine', {
      'hostile.sh': HOSTILE,
      'tools.js': NODE_PROGRAM,
      'tools.py': PYTHON_PROGRAM,
    });
    artifact = join(fx.artifacts, 'hostile.sh');
  });
  afterEach(() => fx.stopAll());
  afterAll(() => fx.remove());

  const sandbox = (over: Partial<ConfinementPolicy> = {}): WorkerSandbox =>
    fx.sandbox({ users: pool, policy: { limits: { ...DEFAULT_JOB_LIMITS, openFiles: 321 }, ...over } });
  const run = async (
    box: WorkerSandbox,
    task: TaskSpec,
  ): Promise<{ result: TaskResult; lines: string[] }> => {
    const { result, lines } = await fx.run(box, task);
    return { result, lines: lines.map((l) => l.text) };
  };

  it('keeps a hostile exec job out of the agent, other jobs and the artifact cache, and ends what it detached', async () => {
    const victim = sandbox();
    const other = fx.spec(victim, 'exec', 'hostile.sh', 'main');
    await run(victim, other); // gives the other job its directory (its user's)
    writeFileSync(join(other.workDir, 'secret.txt'), 'other job data');

    const box = sandbox();
    const { result, lines } = await run(
      box,
      fx.spec(box, 'exec', 'hostile.sh', 'main', { agent: process.pid, other: other.workDir, artifact }),
    );
    expect(result.outcome).toBe('succeeded');
    const said = Object.fromEntries(lines.map((l) => l.split('=') as [string, string]));
    expect(said).toMatchObject({
      environ: 'denied',
      other_dir: 'denied',
      other_file: 'denied',
      artifact_write: 'denied',
      kill_agent: 'denied',
      own_dir: 'ok',
      nofile: '321',
    });
    expect(Number(said['uid'])).toBeGreaterThan(0);
    const daemon = Number(said['daemon']);
    // setsid: out of the job's process group, so still running (no cgroups here: cgroups.int-spec)
    expect(alive(daemon)).toBe(true);

    await box.stop();
    expect(alive(daemon)).toBe(false); // every process of the job's user ended with its worker
  });

  it('runs node and python runners as a job user, never as the agent', async () => {
    const box = sandbox();
    const node = await run(box, fx.spec(box, 'node', 'tools.js', 'uid'));
    const python = await run(box, fx.spec(box, 'python', 'tools.py', 'uid'));
    expect(node.result).toMatchObject({ outcome: 'succeeded' });
    expect(python.result).toMatchObject({ outcome: 'succeeded' });
    const uid = (node.result as { result: number }).result;
    expect(uid).toBeGreaterThan(0);
    expect((python.result as { result: number }).result).toBe(uid); // one user per worker
  });

  it('gives two workers two different users', async () => {
    const [a, b] = [sandbox(), sandbox()];
    const [ra, rb] = await Promise.all([
      run(a, fx.spec(a, 'node', 'tools.js', 'uid')),
      run(b, fx.spec(b, 'node', 'tools.js', 'uid')),
    ]);
    expect((ra.result as { result: number }).result).not.toBe((rb.result as { result: number }).result);
  });

  it('ignores forged and malformed runner messages, and the runner goes on', async () => {
    const box = sandbox();
    for (const [runtime, file] of [
      ['node', 'tools.js'],
      ['python', 'tools.py'],
    ] as const) {
      const { result, lines } = await run(box, fx.spec(box, runtime, file, 'forge'));
      expect(result).toEqual({ outcome: 'succeeded', result: 'still here' });
      if (runtime === 'node') expect(lines.join('\n')).toContain('ignored a malformed node runner message');
    }
    const again = await run(box, fx.spec(box, 'node', 'tools.js', 'uid'));
    expect(again.result.outcome).toBe('succeeded');
  });

  it('keeps a job off the network when the policy says so', async () => {
    const port = Number(new URL(process.env['DATABASE_URL'] ?? 'postgres://x@127.0.0.1:5432/x').port || 5432);
    const [on, off] = [sandbox(), sandbox({ network: false })];
    const online = await run(on, fx.spec(on, 'python', 'tools.py', 'reach', { port }));
    const offline = await run(off, fx.spec(off, 'python', 'tools.py', 'reach', { port }));
    expect(online.result).toEqual({ outcome: 'succeeded', result: 'connected' });
    expect(offline.result).toMatchObject({ outcome: 'succeeded' });
    expect((offline.result as { result: string }).result).toMatch(/^refused/);
  });

  it('passes jvm arguments through a file, never on the command line', async () => {
    const src = join(fx.dir, 'java');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'Args.java'),
      'public class Args { public static void main(String[] a) throws Exception { Thread.sleep(1500); System.out.println(a.length + ":" + a[0]); } }',
    );
    execFileSync('javac', ['-d', src, join(src, 'Args.java')]);
    chmodSync(src, 0o755);
    const marker = `marker-${Math.random().toString(36).slice(2)}`;
    const box = sandbox();
    const task = {
      ...fx.spec(box, 'jvm', 'hostile.sh', 'Args', { marker, quote: 'a "b" \\ c' }),
      programPath: src,
    };
    const running = await box.run(task, { line: () => undefined });
    await running.started;
    await new Promise((r) => setTimeout(r, 500));
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(marker);
    const result = await running.done;
    expect(result).toEqual({ outcome: 'succeeded', result: `1:${JSON.stringify(task.args)}` });
  });
});

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    // A zombie (exited, not yet reaped by init) is gone for every purpose that matters here.
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).startsWith('Z');
  } catch {
    return false;
  }
}
