import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOGGERS_FILE, LoggerFiles } from './logger-files';

// A task's loggers file on a real file system, also in a directory kept from an earlier task
// (sandbox/task-directories.ts), where the job's user may have left anything under its name.
describe('LoggerFiles', () => {
  let dir: string;
  let files: LoggerFiles;
  const levels = { web: { http: 'debug' as const } };
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spindle-loggers-'));
    files = new LoggerFiles();
    await files.change({ defaults: levels, allocs: {} });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const written = () => JSON.parse(readFileSync(join(dir, LOGGERS_FILE), 'utf8')) as unknown;

  it('writes the levels in force before the task starts, and again on every change', async () => {
    const file = await files.open('job-1', dir);
    expect(file).toBe(join(dir, LOGGERS_FILE));
    expect(written()).toEqual(levels);
    await files.change({ defaults: { web: { http: 'error' } }, allocs: {} });
    expect(written()).toEqual({ web: { http: 'error' } });
  });

  it('keeps the file a kept directory holds when it says the same, and replaces it otherwise', async () => {
    await files.open('job-1', dir);
    files.close('job-1');
    const inode = statSync(join(dir, LOGGERS_FILE)).ino;
    await files.open('job-2', dir);
    expect(statSync(join(dir, LOGGERS_FILE)).ino).toBe(inode);
    files.close('job-2');
    writeFileSync(join(dir, LOGGERS_FILE), JSON.stringify({ web: { http: 'info' } }));
    await files.open('job-3', dir);
    expect(written()).toEqual(levels);
  });

  it('neither follows a link nor reads a pipe left under its name, and replaces them', async () => {
    const outside = join(dir, 'outside.json');
    writeFileSync(outside, JSON.stringify(levels));
    symlinkSync(outside, join(dir, LOGGERS_FILE));
    await files.open('job-1', dir);
    expect(statSync(join(dir, LOGGERS_FILE)).isFile()).toBe(true);
    files.close('job-1');
    rmSync(join(dir, LOGGERS_FILE));
    execFileSync('mkfifo', [join(dir, LOGGERS_FILE)]); // reading it would block the agent
    await files.open('job-2', dir);
    expect(written()).toEqual(levels);
  });

  it('writes nothing for a task once it is closed', async () => {
    await files.open('job-1', dir);
    files.close('job-1');
    rmSync(join(dir, LOGGERS_FILE));
    await files.change({ defaults: { web: { http: 'error' } }, allocs: {} });
    expect(() => statSync(join(dir, LOGGERS_FILE))).toThrow(/ENOENT/);
  });
});
