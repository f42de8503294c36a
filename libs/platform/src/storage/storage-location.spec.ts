import { StorageLocationError, allowedStorageLocation, parseStorageUrl } from './storage-location';

const ALLOW = ['http://127.0.0.1:19000', 'https://s3.example.com'];

describe('storage locations', () => {
  it('parses path-style object URLs and prefixes', () => {
    expect(parseStorageUrl('http://127.0.0.1:19000/input/texts/a.txt', 'inputPath')).toEqual({
      endpoint: 'http://127.0.0.1:19000',
      useSsl: false,
      bucket: 'input',
      key: 'texts/a.txt',
      isPrefix: false,
    });
    expect(parseStorageUrl('https://s3.example.com/input/texts/', 'inputPath')).toMatchObject({
      useSsl: true,
      key: 'texts/',
      isPrefix: true,
    });
    expect(parseStorageUrl('http://127.0.0.1:19000/out', 'outputPath')).toMatchObject({
      key: '',
      isPrefix: true,
    });
  });

  it.each([
    ['ftp://127.0.0.1:19000/b/k', 'must use http or https'],
    ['not a url', 'must be a URL'],
    ['http://127.0.0.1:19000/', 'must name a bucket'],
    ['http://127.0.0.1:19000/Upper/k', 'must name a bucket'],
    ['http://u:p@127.0.0.1:19000/bucket/k', 'must not carry credentials'],
    ['http://127.0.0.1:19000/bucket/a%2F..%2Fk', 'must not contain'],
    ['http://127.0.0.1:19000/bucket/k?x=1', 'no query'],
  ])('refuses %s naming the field and the rule', (url, rule) => {
    expect(() => parseStorageUrl(url, 'inputPath')).toThrow(StorageLocationError);
    expect(() => parseStorageUrl(url, 'inputPath')).toThrow(new RegExp(`^inputPath .*${rule}`));
  });

  it('lets through only the endpoints of the allowlist', () => {
    expect(allowedStorageLocation('https://s3.example.com/b1b/k', ALLOW, 'inputPath').bucket).toBe('b1b');
    expect(() => allowedStorageLocation('http://169.254.169.254/latest/meta', ALLOW, 'inputPath')).toThrow(
      'inputPath names storage endpoint http://169.254.169.254, which is not in SPINDLE_STORAGE_ALLOW',
    );
    // Same host, other port or scheme: another endpoint.
    expect(() => allowedStorageLocation('http://127.0.0.1:19001/bkt/k', ALLOW, 'inputPath')).toThrow(
      StorageLocationError,
    );
    expect(() => allowedStorageLocation('http://s3.example.com/bkt/k', ALLOW, 'inputPath')).toThrow(
      StorageLocationError,
    );
  });
});
