// Where objects live in S3-compatible storage, as users name them: `http(s)://endpoint/bucket/key`
// (path-style). A key ending in `/` (or none) is a prefix: every object under it.
export interface StorageLocation {
  readonly endpoint: string; // the origin, e.g. http://127.0.0.1:19000
  readonly useSsl: boolean;
  readonly bucket: string;
  readonly key: string; // '' for the whole bucket
  readonly isPrefix: boolean;
}

// A bad or refused URL: names the field and the rule, never fetched.
export class StorageLocationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

// S3's own bucket naming rule (lower case, digits, dots and hyphens, 3 to 63 characters).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseStorageUrl(url: string, field: string): StorageLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StorageLocationError(field, 'must be a URL http(s)://endpoint/bucket/object');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new StorageLocationError(field, 'must use http or https');
  if (u.username || u.password)
    throw new StorageLocationError(field, 'must not carry credentials (give them as storage credentials)');
  if (u.search || u.hash) throw new StorageLocationError(field, 'must have no query or fragment');
  const [bucket = '', ...rest] = u.pathname.replace(/^\//, '').split('/');
  if (!BUCKET.test(bucket))
    throw new StorageLocationError(
      field,
      'must name a bucket (3-63 lower-case letters, digits, dots, hyphens)',
    );
  const key = rest.map((part) => decodeURIComponent(part)).join('/');
  if (key.split('/').some((part) => part === '.' || part === '..'))
    throw new StorageLocationError(field, 'must not contain . or .. path segments');
  return {
    endpoint: u.origin,
    useSsl: u.protocol === 'https:',
    bucket,
    key,
    isPrefix: key === '' || key.endsWith('/'),
  };
}

// A job must not make Spindle fetch arbitrary addresses: only the configured storage endpoints.
export function assertStorageAllowed(
  location: StorageLocation,
  allow: readonly string[],
  field: string,
): void {
  const allowed = allow.some((origin) => {
    try {
      return new URL(origin).origin === location.endpoint;
    } catch {
      return false;
    }
  });
  if (!allowed)
    throw new StorageLocationError(
      field,
      `names storage endpoint ${location.endpoint}, which is not in SPINDLE_STORAGE_ALLOW`,
    );
}

// Parsed and checked against the allowlist in one step, as every user-given URL must be.
export function allowedStorageLocation(
  url: string,
  allow: readonly string[],
  field: string,
): StorageLocation {
  const location = parseStorageUrl(url, field);
  assertStorageAllowed(location, allow, field);
  return location;
}

export function storageUrlOf(location: Pick<StorageLocation, 'endpoint' | 'bucket'>, key: string): string {
  return `${location.endpoint}/${location.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
