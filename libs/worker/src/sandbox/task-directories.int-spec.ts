import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPARE_TASK_DIRECTORIES, TaskDirectories } from './task-directories';

// A worker's task directories on a real file system: one left as it was made is the next task's,
// one with anything else in it goes with what the job left.
describe('TaskDirectories', () => {
  const AGENT_FILE = 'SPINDLE_LOGGERS.json';
  let jobs: string;
  let directories: TaskDirectories;
  beforeEach(() => {
    jobs = join(mkdtempSync(join(tmpdir(), 'spindle-task-dir-')), 'jobs');
    directories = new TaskDirectories(jobs, [AGENT_FILE]);
  });
  afterEach(() => rmSync(join(jobs, '..'), { recursive: true, force: true }));

  it('makes a task its own directory, named by its job', () => {
    const path = directories.open('job-1');
    expect(path).toBe(join(jobs, 'job-1'));
    expect(statSync(path).isDirectory()).toBe(true);
    for (const name of ['..', '.', '.kept-1', 'a/b', ''])
      expect(() => directories.open(name)).toThrow(/not a directory name/);
  });

  it("keeps a directory that holds only the agent's files, and renames it for the next task", async () => {
    const first = directories.open('job-1');
    writeFileSync(join(first, AGENT_FILE), '{}');
    const inode = statSync(first).ino;
    await directories.close(first);
    expect(readdirSync(jobs)).toEqual(['.kept-1']); // no directory named after an ended job
    const next = directories.open('job-2');
    expect(next).toBe(join(jobs, 'job-2'));
    expect(statSync(next).ino).toBe(inode);
    expect(readdirSync(next)).toEqual([AGENT_FILE]);
    expect(readdirSync(jobs)).toEqual(['job-2']);
  });

  it('removes a directory holding anything else, however deep, and makes the next one afresh', async () => {
    const first = directories.open('job-1');
    writeFileSync(join(first, AGENT_FILE), '{}');
    mkdirSync(join(first, 'out', 'deeper'), { recursive: true });
    writeFileSync(join(first, 'out', 'deeper', 'result.csv'), 'a,b\n');
    await directories.close(first);
    expect(existsSync(first)).toBe(false);
    expect(readdirSync(directories.open('job-2'))).toEqual([]);
  });

  it("keeps no directory where the agent's file is a link or a directory", async () => {
    const linked = directories.open('job-1');
    symlinkSync('/etc/hostname', join(linked, AGENT_FILE));
    await directories.close(linked);
    expect(existsSync(linked)).toBe(false);
    const nested = directories.open('job-2');
    mkdirSync(join(nested, AGENT_FILE));
    await directories.close(nested);
    expect(existsSync(nested)).toBe(false);
    expect(readdirSync(jobs)).toEqual([]);
  });

  it('keeps at most SPARE_TASK_DIRECTORIES, and removes the rest', async () => {
    const paths = Array.from({ length: SPARE_TASK_DIRECTORIES + 3 }, (_, i) => directories.open(`job-${i}`));
    for (const path of paths) await directories.close(path);
    expect(readdirSync(jobs)).toHaveLength(SPARE_TASK_DIRECTORIES);
  });

  it('makes a new directory when the kept one is gone', async () => {
    await directories.close(directories.open('job-1'));
    rmSync(join(jobs, '.kept-1'), { recursive: true });
    expect(statSync(directories.open('job-2')).isDirectory()).toBe(true);
  });

  it("keeps its kept directory when the task's own is there already", async () => {
    const kept = directories.open('job-1');
    await directories.close(kept);
    mkdirSync(join(jobs, 'job-2', 'left'), { recursive: true }); // a run of job-2 before, not removed
    expect(directories.open('job-2')).toBe(join(jobs, 'job-2'));
    expect(readdirSync(jobs).sort()).toEqual(['.kept-1', 'job-2']);
    expect(directories.open('job-3')).toBe(join(jobs, 'job-3')); // the kept one, renamed
    expect(readdirSync(jobs).sort()).toEqual(['job-2', 'job-3']);
  });

  it('is done when a directory is gone already', async () => {
    await expect(directories.close(join(jobs, 'never-made'))).resolves.toBeUndefined();
  });
});
