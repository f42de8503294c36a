import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JobProgram } from '@spindle/contracts';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactCache } from './artifact-cache';

// The cache on a real file system. Files are put in the cache as the agent's fetch leaves them
// (`<sha256>/<name>`, 0555), so nothing is fetched unless a file changed; then the fetch goes to
// an artifact store that is not there (port 9), which stands for "not this content again".
const NO_STORE = {
  urls: { artifactStore: 'http://127.0.0.1:9' },
  internalToken: '',
} as unknown as SpindleConfig;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('ArtifactCache: a program with its libraries', () => {
  let dir: string;
  let cache: ArtifactCache;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spindle-artifact-cache-'));
    cache = new ArtifactCache(NO_STORE, dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Where a fetch would have left it; `fresh` writes a new file (a new inode) over the old.
  function cached(name: string, content: string): string {
    const path = join(dir, sha256(content), name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.new`, content);
    chmodSync(`${path}.new`, 0o555);
    renameSync(`${path}.new`, path);
    return path;
  }

  const MAIN = 'import helpers\n';
  const HELPERS = 'VALUE = 1\n';
  const program = (libraries: JobProgram['libraries']): JobProgram => ({
    artifact: 'group-7-jobs.py',
    sha256: sha256(MAIN),
    entrypoint: 'Main',
    runtime: 'python',
    libraries,
  });
  const withHelpers = program([
    { artifact: 'group-7-helpers.py', sha256: sha256(HELPERS), fileName: 'helpers.py' },
  ]);

  it('runs a program without libraries from its cached file', async () => {
    const main = cached('group-7-jobs.py', MAIN);
    expect(await cache.materializeProgram(program(undefined))).toEqual({
      programPath: main,
      libraryPaths: [],
    });
  });

  it('puts the program and its libraries in one directory, under their file names, as the very cached files', async () => {
    const main = cached('group-7-jobs.py', MAIN);
    const helpers = cached('group-7-helpers.py', HELPERS);
    const { programPath, libraryPaths } = await cache.materializeProgram(withHelpers);
    const folder = dirname(programPath);
    expect(dirname(folder)).toBe(join(dir, 'programs'));
    expect(programPath).toBe(join(folder, 'group-7-jobs.py'));
    expect(libraryPaths).toEqual([join(folder, 'helpers.py')]);
    // Hard links: the files hashed a moment ago, not copies that could differ.
    expect(statSync(programPath).ino).toBe(statSync(main).ino);
    expect(statSync(libraryPaths[0]!).ino).toBe(statSync(helpers).ino);
    // Every job user may enter it; none may change it.
    expect(statSync(folder).mode & 0o777).toBe(0o755);
    expect(statSync(folder).uid).toBe(process.getuid!());
    // The same program again: the same directory, left as it was.
    const again = await cache.materializeProgram(withHelpers);
    expect(again).toEqual({ programPath, libraryPaths });
    expect(statSync(folder).ino).toBe(statSync(dirname(again.programPath)).ino);
  });

  it('makes the directory again when a cached file was fetched afresh', async () => {
    cached('group-7-jobs.py', MAIN);
    cached('group-7-helpers.py', HELPERS);
    const first = await cache.materializeProgram(withHelpers);
    const refetched = cached('group-7-helpers.py', HELPERS); // same content, a new file
    const second = await cache.materializeProgram(withHelpers);
    expect(second).toEqual(first);
    expect(statSync(second.libraryPaths[0]!).ino).toBe(statSync(refetched).ino);
  });

  // Hashed once: after that its identity stands for its content, its change time above all, which
  // a write moves and nobody can set back.
  it('runs nothing when a file already used changed on disk with its size and times put back', async () => {
    const main = cached('group-7-jobs.py', MAIN);
    expect((await cache.materializeProgram(program(undefined))).programPath).toBe(main);
    expect((await cache.materializeProgram(program(undefined))).programPath).toBe(main);
    const before = statSync(main);
    await new Promise((r) => setTimeout(r, 20)); // a change time of its own
    chmodSync(main, 0o755);
    writeFileSync(main, 'import helperz\n'); // the same size
    chmodSync(main, 0o555);
    utimesSync(main, before.atime, before.mtime);
    expect(statSync(main).size).toBe(before.size);
    await expect(cache.materializeProgram(program(undefined))).rejects.toThrow();
  });

  it('runs nothing when a library changed on disk and cannot be fetched again', async () => {
    cached('group-7-jobs.py', MAIN);
    const helpers = cached('group-7-helpers.py', HELPERS);
    chmodSync(helpers, 0o755);
    writeFileSync(helpers, 'VALUE = "tampered"\n');
    await expect(cache.materializeProgram(withHelpers)).rejects.toThrow();
  });
});
