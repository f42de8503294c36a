import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import type { ReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredBlob {
  readonly size: number;
  readonly sha256: string;
  readonly sha1: string;
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`content exceeds the limit of ${maxBytes} bytes`);
  }
}

const SHA256 = /^[0-9a-f]{64}$/;

// Content-addressed blobs on the filesystem: <root>/sha256/<first two hex>/<sha256>. A blob is
// streamed to a temporary file while it is hashed and measured, then renamed into place, so a
// reader never sees a partial blob and equal content is stored once.
export class FilesystemBlobStore {
  constructor(private readonly root: string) {}

  async write(source: Readable, maxBytes: number): Promise<StoredBlob> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const sha256 = createHash('sha256');
    const sha1 = createHash('sha1');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) return callback(new BlobTooLargeError(maxBytes));
        sha256.update(chunk);
        sha1.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, measure, createWriteStream(tmp, { flags: 'wx' }));
      const blob = { size, sha256: sha256.digest('hex'), sha1: sha1.digest('hex') };
      const target = this.pathOf(blob.sha256);
      await mkdir(join(target, '..'), { recursive: true });
      await rename(tmp, target);
      return blob;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async open(sha256: string): Promise<{ stream: ReadStream; size: number } | null> {
    if (!SHA256.test(sha256)) return null;
    const path = this.pathOf(sha256);
    try {
      const { size } = await stat(path);
      return { stream: createReadStream(path), size };
    } catch {
      return null;
    }
  }

  private pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }
}
