import { parseClusterRequest } from './cluster-request';

describe('a cluster request', () => {
  it('splits credentials from what is recorded, by the path they were given at', () => {
    const parsed = parseClusterRequest({
      name: 'prod',
      type: 'k8s',
      url: 'https://k8s:6443',
      username: 'spark',
      password: 'pw',
      clientKey: '',
      storages: { lake: { type: 's3', sparkBucket: 'b', endpoint: 'http://minio', secretKey: 'sk' } },
      unknownField: 'ignored',
    });
    expect(parsed).toEqual({
      ok: true,
      request: {
        name: 'prod',
        type: 'k8s',
        definition: {
          description: '',
          sparkStorage: null,
          defaultApplicationConfig: null,
          settings: { url: 'https://k8s:6443', username: 'spark' },
          storages: { lake: { type: 's3', sparkBucket: 'b', endpoint: 'http://minio' } },
        },
        secrets: new Map([
          ['password', 'pw'],
          ['storages.lake.secretKey', 'sk'],
        ]),
      },
    });
  });

  it('names the fields it refuses, never their values', () => {
    const parsed = parseClusterRequest({ name: 'x', type: 'k8s', url: 'not a url secret-value' });
    expect(parsed).toMatchObject({ ok: false, errors: [{ field: 'url' }] });
    expect(JSON.stringify(parsed)).not.toContain('secret-value');
    expect(parseClusterRequest({ name: 'x', type: 'mesos' })).toMatchObject({
      ok: false,
      errors: [{ field: 'type', message: 'type must be one of local, k8s, yarn' }],
    });
    expect(parseClusterRequest({ name: 'x', type: 'local' })).toMatchObject({
      ok: false,
      errors: [{ field: 'threads' }],
    });
    expect(parseClusterRequest([])).toMatchObject({ ok: false, errors: [{ field: 'body' }] });
  });
});
