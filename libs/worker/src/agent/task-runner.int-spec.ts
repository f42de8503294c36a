import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOGGERS_FILE } from './logger-files';
import { removeTaskDirectory } from './task-runner';

// A task's directory after its end, on a real file system: what the job left goes with it.
describe('removeTaskDirectory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spindle-task-dir-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes a directory that holds only its loggers file', async () => {
    const workDir = join(dir, 'job-1');
    mkdirSync(workDir);
    writeFileSync(join(workDir, LOGGERS_FILE), '{}');
    await removeTaskDirectory(workDir);
    expect(existsSync(workDir)).toBe(false);
  });

  it('removes what the job left there too, however deep', async () => {
    const workDir = join(dir, 'job-2');
    mkdirSync(join(workDir, 'out', 'deeper'), { recursive: true });
    writeFileSync(join(workDir, LOGGERS_FILE), '{}');
    writeFileSync(join(workDir, 'out', 'deeper', 'result.csv'), 'a,b\n');
    await removeTaskDirectory(workDir);
    expect(existsSync(workDir)).toBe(false);
  });

  it('is done when the directory is gone already', async () => {
    await expect(removeTaskDirectory(join(dir, 'never-made'))).resolves.toBeUndefined();
  });
});
