import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_JOB_USERS } from '@spindle/platform';
import { WORD_COUNT_MAPPER, WORD_COUNT_REDUCER, processAlive, writeProgram } from '@spindle/testing';
import { DEFAULT_JOB_LIMITS } from '../sandbox/confinement';
import { JobUserPool } from '../sandbox/job-users';
import { TaskJail } from '../sandbox/task-jail';
import { runApolloMap, runApolloReduce } from './apollo-executor';
import type { ApolloPair } from './apollo-invocation';

jest.setTimeout(120_000);

// Real programs (shebang scripts, as Apollo users would write a Go binary), real Unix sockets, a
// real private /tmp per invocation.
describe('the apollo protocol', () => {
  let dir: string;
  let workDir: string;
  let jail: TaskJail; // unconfined: the confined protocol is test/mapreduce/apollo-wordcount's
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apollo-protocol-'));
    workDir = join(dir, 'task');
    jail = await TaskJail.open(null, 'task', workDir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const countOf = (pairs: readonly ApolloPair[]): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const { key, value } of pairs)
      counts.set(String(key), (counts.get(String(key)) ?? 0) + Number(value));
    return counts;
  };

  it('runs the mapper once per line, many at once, each with its own /tmp/map.sock, payloads of any size', async () => {
    const mapper = writeProgram(dir, 'mapper', WORD_COUNT_MAPPER);
    // 60 KB lines: each invocation writes ~300 KB of pairs, far past Apollo's 1 KiB read.
    const words = ['alpha', 'beta', 'gamma', 'delta'];
    const lines = Array.from({ length: 24 }, (_, i) =>
      Array.from({ length: 10_000 }, (_, j) => words[(i + j) % words.length]).join(' '),
    );
    lines.push('', 'alpha\r'); // an empty line has no pairs; a CRLF line loses its "\r"
    const seen: number[] = [];
    const pairs: ApolloPair[] = [];
    const scratchRoot = join(dir, 'scratch');
    const n = await runApolloMap(
      { programPath: mapper, jail, scratchRoot, concurrency: 8 },
      lines,
      (p, lineNumber) => {
        seen.push(lineNumber);
        pairs.push(...p);
      },
    );
    expect(n).toBe(26);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 26 }, (_, i) => i));
    const expected = new Map<string, number>();
    for (const line of lines)
      for (const w of line.trim().split(/\s+/).filter(Boolean)) expected.set(w, (expected.get(w) ?? 0) + 1);
    expect(countOf(pairs)).toEqual(expected);
    expect(existsSync('/tmp/map.sock')).toBe(false); // the host's /tmp was never used
    expect(readdirSync(scratchRoot)).toEqual([]); // every invocation's /tmp removed
  });

  it('passes the line number and the line as the program arguments', async () => {
    const echo = writeProgram(
      dir,
      'echo-args',
      WORD_COUNT_MAPPER.replace(
        'pairs = [{"key": word, "value": 1} for word in line.split()]',
        'pairs = [{"key": sys.argv[1], "value": sys.argv[2:]}]',
      ),
    );
    const pairs: ApolloPair[] = [];
    await runApolloMap({ programPath: echo, jail }, ['first line', 'it\'s "quoted" $HOME'], (p) => {
      pairs.push(...p);
    });
    expect(pairs.sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual([
      { key: '0', value: ['first line'] },
      { key: '1', value: ['it\'s "quoted" $HOME'] },
    ]);
  });

  it('runs the reducer once per key in order, feeding its input socket and reading its result, large groups too', async () => {
    const reducer = writeProgram(dir, 'reducer', WORD_COUNT_REDUCER);
    const groups = [
      { key: 'many', values: Array.from({ length: 50_000 }, () => 2) }, // ~150 KB of input
      { key: 'one', values: [1] },
      { key: 7, values: [3, 4] },
    ];
    const reduced = await runApolloReduce({ programPath: reducer, jail, concurrency: 3 }, groups);
    expect(reduced).toEqual([
      { key: 'many', value: 100_000 },
      { key: 'one', value: 1 },
      { key: 7, value: 7 },
    ]);
  });

  it('fails the task when one invocation fails, naming the line and what the program said', async () => {
    const failing = writeProgram(
      dir,
      'fails-on-two',
      WORD_COUNT_MAPPER.replace(
        'line = sys.argv[2]',
        'if sys.argv[1] == "2":\n    sys.stderr.write("cannot map this line\\n"); sys.exit(3)\nline = sys.argv[2]',
      ),
    );
    await expect(
      runApolloMap({ programPath: failing, jail, concurrency: 1 }, ['a', 'b', 'c', 'd'], () => undefined),
    ).rejects.toThrow(/mapper on line 2 exited with code 3\ncannot map this line/);
  });

  it('fails a reducer that writes no result, and one that writes something that is not JSON', async () => {
    const silent = writeProgram(dir, 'silent', '#!/bin/sh\nexit 0\n');
    await expect(runApolloReduce({ programPath: silent, jail }, [{ key: 'k', values: [1] }])).rejects.toThrow(
      /reducer on key "k" \(order 0\) ended without listening on \/tmp\/reduce-input-0\.sock/,
    );
    const garbled = writeProgram(
      dir,
      'garbled',
      WORD_COUNT_MAPPER.replace('json.dumps({"pairs": pairs}).encode()', 'b"not json"'),
    );
    await expect(runApolloMap({ programPath: garbled, jail }, ['x'], () => undefined)).rejects.toThrow(
      /wrote something that is not JSON to \/tmp\/map\.sock/,
    );
  });

  // With a read-only view (CI) the view binds the private /tmp: test/mapreduce/apollo-wordcount.
  (JobUserPool.available() ? it : it.skip)(
    'runs every mapper and reducer invocation as a job user also without a read-only view (SPINDLE_JOB_FS=off), its /tmp private',
    async () => {
      chmodSync(dir, 0o711); // job users run the program in it
      const confined = await TaskJail.open(
        {
          policy: { separateUsers: true, network: true, limits: DEFAULT_JOB_LIMITS },
          users: new JobUserPool(DEFAULT_JOB_USERS),
        },
        'confined',
        join(dir, 'confined'),
      );
      try {
        const whoami = writeProgram(
          dir,
          'whoami',
          WORD_COUNT_MAPPER.replace(
            'pairs = [{"key": word, "value": 1} for word in line.split()]',
            'import os\npairs = [{"key": os.getuid(), "value": sorted(os.listdir("/tmp"))}]',
          ),
        );
        const pairs: ApolloPair[] = [];
        await runApolloMap({ programPath: whoami, jail: confined }, ['a', 'b'], (p) => {
          pairs.push(...p);
        });
        expect(pairs).toEqual([
          { key: confined.user!.uid, value: ['map.sock'] },
          { key: confined.user!.uid, value: ['map.sock'] },
        ]);
        // The reducer listens on a socket of its own in that /tmp; the worker connects to it.
        const reducer = writeProgram(dir, 'reducer', WORD_COUNT_REDUCER);
        expect(
          await runApolloReduce({ programPath: reducer, jail: confined }, [{ key: 'k', values: [1, 2] }]),
        ).toEqual([{ key: 'k', value: 3 }]);
      } finally {
        await confined.close();
      }
    },
  );

  it('stops every running invocation when the task is stopped', async () => {
    const sleeper = writeProgram(
      dir,
      'sleeper',
      // its /tmp is private: it leaves its pid in its working directory, the task's
      '#!/bin/sh\necho $$ > "pid-$1"\nexec sleep 600\n',
    );
    const stop = new AbortController();
    const running = runApolloMap(
      { programPath: sleeper, jail, concurrency: 4, signal: stop.signal },
      ['a', 'b', 'c', 'd', 'e'],
      () => undefined,
    );
    let settled = false;
    running.catch(() => undefined).finally(() => (settled = true));
    const pidFiles = [0, 1, 2, 3].map((i) => join(workDir, `pid-${i}`));
    while (!pidFiles.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim() !== '')) {
      if (settled) await running; // ended before all four began: say why
      await new Promise((r) => setTimeout(r, 20));
    }
    const pids = pidFiles.map((f) => Number(readFileSync(f, 'utf8').trim()));
    stop.abort();
    await expect(running).rejects.toThrow(/stopped/);
    while (pids.some(processAlive)) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(join(workDir, 'pid-4'))).toBe(false); // the fifth line never started
  });
});

// The agent as a developer's `npm start` runs it: not root, so no job users and no read-only view,
// and an invocation's /tmp comes from an unprivileged user namespace (private-tmp.ts). Whether a
// process is root is fixed for its life (privateTmp() is found once), so the agent here is a node
// process of its own, started as another user, running the real executor from the sources.
const ROOT_ONLY = process.getuid?.() === 0 ? describe : describe.skip; // only root can start it as another user
ROOT_ONLY('the apollo protocol under an agent that is not root', () => {
  const repo = resolve(__dirname, '../../../..');
  const AGENT = `
    const { runApolloMap, privateTmp } = require('./libs/worker/src/apollo-protocol');
    const { TaskJail } = require('./libs/worker/src/sandbox/task-jail');
    const [dir, program] = process.argv.slice(1);
    (async () => {
      const jail = await TaskJail.open(null, 'task', dir + '/task');
      const pairs = [];
      try {
        await runApolloMap({ programPath: program, jail, scratchRoot: dir + '/scratch' }, ['b a b'], (p) => {
          pairs.push(...p);
        });
        console.log(JSON.stringify({ uid: process.getuid(), mode: privateTmp().mode, pairs }));
      } catch (e) {
        console.log(JSON.stringify({ uid: process.getuid(), error: e.message }));
      }
    })();`;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'apollo-non-root-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Runs AGENT through `command` (its last arguments), with a directory `owner` may write in.
  const runAgent = (
    command: readonly string[],
    owner: number,
    options: SpawnOptions = {},
    started?: (pid: number) => void,
  ): Promise<{ uid: number; mode?: string; pairs?: ApolloPair[]; error?: string }> => {
    const work = join(dir, 'agent');
    mkdirSync(work);
    chownSync(work, owner, owner);
    const program = writeProgram(dir, 'mapper', WORD_COUNT_MAPPER);
    const [file, ...args] = [
      ...command,
      process.execPath,
      '-r',
      '@swc-node/register',
      '-e',
      AGENT,
      work,
      program,
    ];
    return new Promise((done, fail) => {
      const child = spawn(file, args, {
        cwd: repo,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work },
        stdio: ['pipe', 'pipe', 'pipe'],
        ...options,
      });
      let out = '';
      let err = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', fail);
      child.on('close', (code) => {
        const line = out.trim().split('\n').pop() ?? '';
        if (code !== 0 || !line.startsWith('{')) return fail(new Error(`agent exited ${code}: ${out}${err}`));
        done(JSON.parse(line) as { uid: number; mode?: string; pairs?: ApolloPair[]; error?: string });
      });
      if (started) started(child.pid!);
    });
  };

  it('gives each invocation its own /tmp through an unprivileged user namespace', async () => {
    const nobody = 65_534;
    const answer = await runAgent([], nobody, { uid: nobody, gid: nobody });
    expect(answer).toEqual({
      uid: nobody,
      mode: 'user-namespace',
      pairs: [
        { key: 'b', value: 1 },
        { key: 'a', value: 1 },
        { key: 'b', value: 1 },
      ],
    });
  });

  // A host that allows no unprivileged user namespaces (kernel.unprivileged_userns_clone=0,
  // user.max_user_namespaces=0, an AppArmor rule): made here for the agent alone, as a user
  // namespace of its own whose limit for namespaces below it is 0. Its root sets the limit, then
  // becomes uid 1 (outside: 100001) to run the agent.
  it('fails the task with the reason where the host allows no user namespace', async () => {
    const inside = 1;
    const outside = 100_001;
    const go = join(dir, 'go');
    writeFileSync(go, '');
    const answer = await runAgent(
      [
        'unshare',
        '--user',
        'sh',
        '-c',
        // Waits for its uid and gid maps (written from outside), then execs again, which gives it
        // its capabilities in the namespace now that it is its root.
        'until [ -s "$0" ]; do sleep 0.05; done; exec sh -c \'echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid=1 --regid=1 --clear-groups "$@"\' sh "$@"',
        go,
      ],
      outside,
      {},
      (pid) => {
        // One write each: a map is written once, whole.
        const map = `0 0 1\n${inside} ${outside} 1\n`;
        const write = (): void => {
          try {
            writeFileSync(`/proc/${pid}/uid_map`, map);
            writeFileSync(`/proc/${pid}/gid_map`, map);
            writeFileSync(go, 'go');
          } catch (e) {
            // not yet in its namespace: unshare has not run
            if (
              (e as NodeJS.ErrnoException).code !== 'EPERM' &&
              (e as NodeJS.ErrnoException).code !== 'EINVAL'
            )
              throw e;
            setTimeout(write, 20);
          }
        };
        setTimeout(write, 50);
      },
    );
    expect(answer.uid).toBe(inside);
    expect(answer.error).toMatch(
      /the apollo protocol needs a private \/tmp for every invocation .*this host gives none: user-namespace: unshare: unshare failed: No space left on device/,
    );
  });
});
