import { randomUUID } from 'node:crypto';
import { ObjectStorage } from '@spindle/platform';
import type { StorageCredentials } from '@spindle/platform';

// The S3-compatible server of the tests: the one tools/test-infra started (S3Proxy, tools/s3) or
// the one S3_ENDPOINT names, with the keys tools/s3/s3-up.sh gives it.
export const S3_ENDPOINT = process.env['S3_ENDPOINT'] ?? 'http://127.0.0.1:19000';
export const S3_CREDENTIALS: StorageCredentials = {
  accessKeyId: process.env['S3_ACCESS_KEY'] ?? 'spindle',
  secretAccessKey: process.env['S3_SECRET_KEY'] ?? 'spindle-secret',
};

export function testStorage(): ObjectStorage {
  return new ObjectStorage(S3_ENDPOINT, S3_CREDENTIALS);
}

// A bucket of its own per suite: suites and reruns never see each other's objects.
export async function freshBucket(storage: ObjectStorage, what: string): Promise<string> {
  const bucket = `${what}-${randomUUID().slice(0, 8)}`;
  await storage.ensureBucket(bucket);
  return bucket;
}
