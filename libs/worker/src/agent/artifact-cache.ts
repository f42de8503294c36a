import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { chmod, copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { JobProgram } from '@spindle/contracts';
import { internalHeaders } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';

// Programs a worker host has fetched, by content hash: fetched once from the artifact store,
// checked against their hash, and kept under their own file name (a runtime may need the extension).
// Jobs may read and run them, never change them (root-owned, 0555). A copy changed on disk anyway is
// fetched afresh rather than run: the first use in an agent's run hashes the file, and every use
// after that compares its identity (device, inode, size, modification and change times, to the
// nanosecond) with the one it had when hashed. Any write, chmod or rename moves its change time,
// which no one but the kernel sets; hashing the file for every task was a read of the whole file
// and a stream pipeline on the agent's event loop for each job.
// A program with libraries gets a directory of its own, `programs/<key>`, in which it and each of
// its libraries lie under their file names (hard links to the cached files), so that it finds them
// as files beside it (python's sys.path, node's relative imports); the key is a hash of every file's
// name and content, so the directory never changes and a warm runner may keep what it loaded.
export class ArtifactCache {
  private readonly inFlight = new Map<string, Promise<string>>();
  // The cached files hashed in this run, by path: their identity when they were (identityOf).
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly config: SpindleConfig,
    readonly dir: string,
  ) {}

  materialize(sha256: string, name: string): Promise<string> {
    const key = `${sha256}/${name}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(sha256, name).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  // Every artifact of a job's program, each checked against its hash, before anything of it runs.
  async materializeProgram(program: JobProgram): Promise<MaterializedProgram> {
    const libraries = program.libraries ?? [];
    const [main, ...cached] = await Promise.all([
      this.materialize(program.sha256, program.artifact),
      ...libraries.map((l) => this.materialize(l.sha256, l.artifact)),
    ]);
    if (libraries.length === 0) return { programPath: main, libraryPaths: [] };
    const files = [
      { fileName: program.artifact, sha256: program.sha256, cachedAt: main },
      ...libraries.map((l, i) => ({ fileName: l.fileName, sha256: l.sha256, cachedAt: cached[i]! })),
    ];
    const key = createHash('sha256')
      .update(JSON.stringify(files.map((f) => [f.fileName, f.sha256])))
      .digest('hex');
    const folder = join(this.dir, 'programs', key);
    let pending = this.inFlight.get(folder);
    if (!pending) {
      pending = this.linkProgram(folder, files).finally(() => this.inFlight.delete(folder));
      this.inFlight.set(folder, pending);
    }
    await pending;
    return {
      programPath: join(folder, program.artifact),
      libraryPaths: libraries.map((l) => join(folder, l.fileName)),
    };
  }

  // The program's directory holds exactly the files just checked (the same inodes), or is made
  // afresh beside it and moved into place.
  private async linkProgram(folder: string, files: readonly ProgramFile[]): Promise<string> {
    if (await holds(folder, files)) return folder;
    const partial = `${folder}.${process.pid}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true, mode: 0o755 });
    try {
      await chmod(partial, 0o755); // whatever the umask made of it: every job user reads it
      for (const f of files) {
        // A copy where a link cannot be made (another file system); it keeps the cached file's mode.
        await link(f.cachedAt, join(partial, f.fileName)).catch(() =>
          copyFile(f.cachedAt, join(partial, f.fileName)),
        );
      }
      await rm(folder, { recursive: true, force: true });
      await rename(partial, folder);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      // Another agent of this host may have put the same directory in place meanwhile.
      if (!(await holds(folder, files))) throw e;
    }
    return folder;
  }

  private async fetch(sha256: string, name: string): Promise<string> {
    const folder = join(this.dir, sha256);
    const path = join(folder, name);
    // Looked at for every task: synchronously (privateDirectory, in sandbox/confinement.ts, says why).
    const found = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (found) {
      const identity = identityOf(found);
      if (this.verified.get(path) === identity) return path;
      if ((await sha256Of(path)) === sha256) {
        this.verified.set(path, identity);
        return path;
      }
      this.verified.delete(path);
      await rm(path, { force: true }); // changed since it was fetched: never run it
    }
    await mkdir(folder, { recursive: true, mode: 0o755 });
    const response = await fetch(`${this.config.urls.artifactStore}/internal/v1/blobs/${sha256}`, {
      headers: internalHeaders(this.config),
    });
    if (!response.ok || !response.body)
      throw new Error(`artifact ${name} (${sha256}) could not be fetched: HTTP ${response.status}`);
    const partial = `${path}.${process.pid}.partial`;
    const hash = createHash('sha256');
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    try {
      await pipeline(body, createWriteStream(partial, { mode: 0o555 }));
      const got = hash.digest('hex');
      if (got !== sha256) throw new Error(`artifact ${name} arrived with sha256 ${got}, expected ${sha256}`);
      await chmod(partial, 0o555); // whatever the umask made of it
      await rename(partial, path);
      this.verified.set(path, identityOf(await stat(path, { bigint: true })));
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    return path;
  }
}

export interface MaterializedProgram {
  readonly programPath: string;
  readonly libraryPaths: readonly string[]; // in the function's order, beside programPath
}

interface ProgramFile {
  readonly fileName: string;
  readonly sha256: string;
  readonly cachedAt: string;
}

async function holds(folder: string, files: readonly ProgramFile[]): Promise<boolean> {
  const same = await Promise.all(
    files.map(async (f) => {
      const [linked, cached] = await Promise.all([
        stat(join(folder, f.fileName)).catch(() => null),
        stat(f.cachedAt),
      ]);
      return linked !== null && linked.ino === cached.ino && linked.dev === cached.dev;
    }),
  );
  return same.every(Boolean);
}

// What changes whenever a file's content can have: another file in its place, or any write to it.
function identityOf(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
