import { randomUUID } from 'node:crypto';
import { ObjectStorage } from '@spindle/platform';
import type { StorageCredentials } from '@spindle/platform';
import { uniqueName } from '@spindle/testing';
import { http } from './http';

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

// The test server's keys kept as a Spindle secret, for a MapReduce job's inputSecret/outputSecret.
export async function storageSecret(spindleUrl: string): Promise<string> {
  const secret = uniqueName('storage');
  const stored = await http(spindleUrl, 'PUT', `/api/v1/secrets/${secret}`, {
    values: {
      ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    },
  });
  expect(stored.status).toBe(201);
  return secret;
}

// What a streaming word count wrote under `output/` of `bucket`: every reducer's part read, each
// word in one part only, and the job's `_SUCCESS` marker there (empty).
export async function countedWords(
  storage: ObjectStorage,
  bucket: string,
  reducers: number,
): Promise<Map<string, number>> {
  const counted = new Map<string, number>();
  for (let r = 0; r < reducers; r++)
    for (const line of (await storage.readText(bucket, `output/part-r-0000${r}`))
      .split('\n')
      .filter(Boolean)) {
      const [word, count] = line.split('\t');
      expect(counted.has(word!)).toBe(false);
      counted.set(word!, Number(count));
    }
  expect(await storage.readText(bucket, 'output/_SUCCESS')).toBe('');
  return counted;
}
