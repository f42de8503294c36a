import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleHostDirectories } from './host-directories';

describe("the job tree's host directories", () => {
  let tree: string;
  beforeEach(() => {
    tree = mkdtempSync(join(tmpdir(), 'spindle-host-dirs-'));
    for (const name of ['vm-100', 'vm-200', 'vm-300', 'other-100', 'vm-abc', 'artifacts', 'runtime', 'fixed'])
      mkdirSync(join(tree, name, 'workers', 'w1'), { recursive: true });
    writeFileSync(join(tree, 'vm-100', 'workers', 'w1', 'left-by-a-job'), 'x');
  });
  afterEach(() => rmSync(tree, { recursive: true, force: true }));

  it("removes earlier runs' directories whose process is gone, and keeps live agents', other machines' and the tree's own", async () => {
    const alive = (pid: number) => pid === 200 || pid === 300;
    expect(await removeStaleHostDirectories(tree, 'vm', 'vm-999', alive)).toEqual(['vm-100']);
    expect(readdirSync(tree).sort()).toEqual([
      'artifacts',
      'fixed',
      'other-100',
      'runtime',
      'vm-200',
      'vm-300',
      'vm-abc',
    ]);
  });

  it('removes its own directory when its host id is configured (an earlier run of the same host left it)', async () => {
    expect(await removeStaleHostDirectories(tree, 'vm', 'fixed', () => true)).toEqual(['fixed']);
    expect(existsSync(join(tree, 'fixed'))).toBe(false);
  });

  it('does nothing without a job tree', async () => {
    expect(await removeStaleHostDirectories(join(tree, 'none'), 'vm', 'vm-1')).toEqual([]);
  });
});
