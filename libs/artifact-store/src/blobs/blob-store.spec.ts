import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { BlobTooLargeError, FilesystemBlobStore } from './blob-store';

describe('FilesystemBlobStore', () => {
  let root: string;
  let blobs: FilesystemBlobStore;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'blobs-'));
    blobs = new FilesystemBlobStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores content under its sha256 with its size and sha1', async () => {
    const stored = await blobs.write(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 100);
    expect(stored).toEqual({
      size: 11,
      sha256: createHash('sha256').update('hello world').digest('hex'),
      sha1: createHash('sha1').update('hello world').digest('hex'),
    });
    const opened = await blobs.open(stored.sha256);
    expect(opened!.size).toBe(11);
    expect(await text(opened!.stream)).toBe('hello world');
  });

  it('refuses content over the limit and leaves nothing behind', async () => {
    await expect(
      blobs.write(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100),
    ).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(root)).toEqual(['tmp']);
  });

  it('opens nothing for an unknown or malformed address', async () => {
    expect(await blobs.open('0'.repeat(64))).toBeNull();
    expect(await blobs.open('../../etc/passwd')).toBeNull();
  });
});
