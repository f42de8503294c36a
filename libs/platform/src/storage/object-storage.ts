import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { StorageLocation } from './storage-location';

export interface StorageCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

// One S3-compatible endpoint, path-style (S3Proxy, MinIO and Apollo's users' servers have no
// virtual-host buckets). Checksums only when an operation requires them: S3Proxy 2.6.0 refuses
// the SDK's default CRC32 trailers on PutObject and GetObject.
export class ObjectStorage {
  private readonly client: S3Client;

  constructor(endpoint: string, credentials: StorageCredentials) {
    this.client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  static at(location: Pick<StorageLocation, 'endpoint'>, credentials: StorageCredentials): ObjectStorage {
    return new ObjectStorage(location.endpoint, credentials);
  }

  // The object itself, or every object under a prefix, in key order.
  async list(location: StorageLocation): Promise<StoredObject[]> {
    if (!location.isPrefix) {
      const objects = await this.listPrefix(location.bucket, location.key);
      return objects.filter((o) => o.key === location.key);
    }
    return this.listPrefix(location.bucket, location.key);
  }

  async listPrefix(bucket: string, prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined) found.push({ key: o.Key, size: Number(o.Size ?? 0) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  // Bytes from `start` (inclusive) to `end` (exclusive; undefined: to the end of the object).
  async read(bucket: string, key: string, start = 0, end?: number, signal?: AbortSignal): Promise<Readable> {
    const range =
      start === 0 && end === undefined ? undefined : `bytes=${start}-${end === undefined ? '' : end - 1}`;
    const answer = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }), {
      abortSignal: signal,
    });
    return answer.Body as Readable;
  }

  async readText(bucket: string, key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.read(bucket, key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async write(bucket: string, key: string, body: Buffer | string): Promise<void> {
    // The length given: the SDK cannot tell an empty body's (a `_SUCCESS` marker) and warns.
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    await this.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: length }),
    );
  }

  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket })).catch((e: unknown) => {
        // Another task created it meanwhile.
        if (!(e instanceof Error && /BucketAlready(Exists|OwnedByYou)/.test(e.name))) throw e;
      });
    }
  }

  async deletePrefix(bucket: string, prefix: string): Promise<void> {
    // One request per object: DeleteObjects needs a checksum header S3Proxy does not implement.
    const objects = await this.listPrefix(bucket, prefix);
    for (let i = 0; i < objects.length; i += 16)
      await Promise.all(
        objects
          .slice(i, i + 16)
          .map((o) => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.key }))),
      );
  }

  destroy(): void {
    this.client.destroy();
  }
}
