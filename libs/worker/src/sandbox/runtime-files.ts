import { createHash, randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

// The files a job's processes read from Spindle itself: the runners' bootstrap (node-runner.cjs,
// python-runner.py) and the helpers (runtimes/: spindle-loggers and spindle_loggers, which programs
// import by name, and the built JVM runner, jvm/). They are read by the job's user, so they must be where that user can reach.
export interface RuntimeFiles {
  readonly bootstrapDir: string;
  readonly helpersDir: string;
}

// Where they are in the checkout.
export const CHECKOUT_RUNTIME_FILES: RuntimeFiles = {
  bootstrapDir: join(__dirname, 'bootstrap'),
  // runtimes/ at the top of the repository.
  helpersDir: resolve(__dirname, '../../../../runtimes'),
};

export function bootstrapOf(files: RuntimeFiles, language: 'node' | 'python'): string {
  return join(files.bootstrapDir, language === 'node' ? 'node-runner.cjs' : 'python-runner.py');
}

// The JVM runner is Java: built from tools/jvm-runner/ (bash tools/jvm-runner/build.sh, run by
// `npm start` and the tests' setup) into the helpers, runtimes/jvm/, with its libraries in lib/.
export const JVM_RUNNER_MAIN = 'io.spindle.runner.JvmRunner';
export const JVM_RUNNER_BUILD = 'bash tools/jvm-runner/build.sh';

// The JVM runner's class path, or undefined when it is not built.
export function jvmRunnerClassPath(files: RuntimeFiles): string | undefined {
  const dir = join(files.helpersDir, 'jvm');
  const jar = join(dir, 'spindle-jvm-runner.jar');
  if (!existsSync(jar)) return undefined;
  const libs = readdirSync(join(dir, 'lib'))
    .filter((f) => f.endsWith('.jar'))
    .map((f) => join(dir, 'lib', f));
  return [jar, ...libs].join(delimiter);
}

// A checkout in a private home (root's /root, a mode-700 home) shuts job users out of the
// checkout's files. Rather than leave jobs unconfined, the agent copies them into its job tree,
// which job users can reach: `<into>/<hash of the contents>/{bootstrap,helpers}`, read-only to
// everyone. The hash names a version: agents sharing a tree share a copy, and an upgraded
// checkout gets a copy of its own instead of changing files under running runners.
export async function copyRuntimeFiles(from: RuntimeFiles, into: string): Promise<RuntimeFiles> {
  const version = await contentHash([from.bootstrapDir, from.helpersDir]);
  const target = join(into, version);
  const copied: RuntimeFiles = {
    bootstrapDir: join(target, 'bootstrap'),
    helpersDir: join(target, 'helpers'),
  };
  if (await exists(target)) return copied;
  await mkdir(into, { recursive: true, mode: 0o755 });
  await chmod(into, 0o755);
  // Made aside and renamed into place: a reader never sees half a copy.
  const staging = join(into, `.staging-${randomUUID()}`);
  try {
    await cp(from.bootstrapDir, join(staging, 'bootstrap'), { recursive: true });
    await cp(from.helpersDir, join(staging, 'helpers'), { recursive: true });
    await readOnlyForAll(staging);
    await rename(staging, target).catch(async (e: NodeJS.ErrnoException) => {
      // Another agent of the tree made the same copy meanwhile.
      if (!(await exists(target))) throw e;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return copied;
}

async function contentHash(dirs: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of dirs)
    for (const file of await filesUnder(dir)) {
      hash.update(`${file.slice(dir.length)}\0`);
      hash.update(await readFile(file));
    }
  return hash.digest('hex').slice(0, 16);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

// Directories 0555, files 0444: every job user reads them, none (but root) changes them.
async function readOnlyForAll(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await readOnlyForAll(path);
    else await chmod(path, 0o444);
  }
  await chmod(dir, 0o555);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
