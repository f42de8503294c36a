import { freshBucket, testStorage } from '../support/storage';

// Against the real S3-compatible server (S3Proxy started by the test infrastructure).
describe('ObjectStorage on S3Proxy', () => {
  const storage = testStorage();
  afterAll(() => storage.destroy());

  it('writes, lists, reads byte ranges and deletes', async () => {
    const bucket = await freshBucket(storage, 'storage');
    await storage.write(bucket, 'dir/a.txt', 'hello\nworld\n');
    await storage.write(bucket, 'dir/b.txt', Buffer.from('x'.repeat(10)));
    await storage.write(bucket, 'other.txt', 'o');

    expect(await storage.listPrefix(bucket, 'dir/')).toEqual([
      { key: 'dir/a.txt', size: 12 },
      { key: 'dir/b.txt', size: 10 },
    ]);
    expect(await storage.readText(bucket, 'dir/a.txt')).toBe('hello\nworld\n');
    const chunks: Buffer[] = [];
    for await (const c of await storage.read(bucket, 'dir/a.txt', 3, 8)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('lo\nwo');
    const tail: Buffer[] = [];
    for await (const c of await storage.read(bucket, 'dir/a.txt', 6)) tail.push(c as Buffer);
    expect(Buffer.concat(tail).toString()).toBe('world\n');

    await storage.deletePrefix(bucket, 'dir/');
    expect(await storage.listPrefix(bucket, '')).toEqual([{ key: 'other.txt', size: 1 }]);
  });

  it('creates a bucket once, however often it is asked', async () => {
    const bucket = await freshBucket(storage, 'again');
    await storage.ensureBucket(bucket);
    expect(await storage.listPrefix(bucket, '')).toEqual([]);
  });
});
