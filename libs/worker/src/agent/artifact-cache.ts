import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { internalHeaders } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';

// Programs a worker host has fetched, by content hash: fetched once from the artifact store,
// checked against their hash, and kept under their own file name (a runtime may need the extension).
// Jobs may read and run them, never change them (root-owned, 0555); each use hashes the file again,
// so a copy changed on disk anyway is fetched afresh rather than run.
export class ArtifactCache {
  private readonly inFlight = new Map<string, Promise<string>>();

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

  private async fetch(sha256: string, name: string): Promise<string> {
    const folder = join(this.dir, sha256);
    const path = join(folder, name);
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    ) {
      if ((await sha256Of(path)) === sha256) return path;
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
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    return path;
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
