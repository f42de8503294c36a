import {
  apolloArtifactOf,
  apolloCreatedJob,
  apolloJobAlreadyFinished,
  apolloJobOf,
  apolloJobStopped,
  apolloOutputLocation,
  apolloTaskOf,
  parseApolloJobRequest,
  unixSeconds,
} from './apollo-format';

const request = {
  nReducers: 3,
  inputPath: 'http://127.0.0.1:19000/test/test.txt',
  inputType: 'file/txt',
  outputPath: 'http://127.0.0.1:19000',
  useSSL: false,
  mapperName: 'mapper',
  reducerName: 'reducer',
  inputStorageCredentials: { username: 'user', password: 'in-secret' },
  outputStorageCredentials: { username: 'user', password: 'out-secret' },
};

describe('apollo-format', () => {
  it('maps an artifact to {name, type: executable, size, hash}', () => {
    expect(apolloArtifactOf({ name: 'mapper', size: 12, sha256: 'ab'.repeat(32) })).toEqual({
      name: 'mapper',
      type: 'executable',
      size: 12,
      hash: 'ab'.repeat(32),
    });
  });

  it('counts time in Unix seconds, as the coordinator does', () => {
    expect(unixSeconds('2025-03-08T12:26:19.999Z')).toBe(1741436779);
    expect(unixSeconds(new Date(1741436779000))).toBe(1741436779);
  });

  it('accepts the documented request, with splitSize optional and useSSL defaulting to false', () => {
    expect(parseApolloJobRequest(request)).toEqual({ ok: true, value: request });
    const { useSSL: _dropped, ...withoutSsl } = request;
    const parsed = parseApolloJobRequest({ ...withoutSsl, splitSize: 1024 });
    expect(parsed).toEqual({ ok: true, value: { ...request, splitSize: 1024 } });
  });

  it.each([
    [{ ...request, extra: 1 }, 'json: unknown field "extra"'],
    [
      { ...request, inputStorageCredentials: { username: 'u', password: 'p', token: 't' } },
      'json: unknown field "token"',
    ],
    [{ ...request, inputType: 'file/csv' }, "file/csv isn't in the allowed input types list [file/txt]"],
    [{ ...request, nReducers: -1 }, 'nReducers must be an integer from 0 to 1000'],
    [{ ...request, nReducers: 1.5 }, 'nReducers must be an integer from 0 to 1000'],
    [{ ...request, mapperName: '' }, 'mapperName must be a non-empty string'],
    [{ ...request, useSSL: 'no' }, 'useSSL must be a boolean'],
    [{ ...request, splitSize: 0 }, 'splitSize must be a positive integer (bytes)'],
    [
      { ...request, outputStorageCredentials: 'x' },
      'outputStorageCredentials must be an object {username, password}',
    ],
    [[request], 'the request body must be a JSON object'],
  ])('refuses body #%# with the rule it breaks, never echoing a password', (body, error) => {
    const parsed = parseApolloJobRequest(body);
    expect(parsed).toEqual({ ok: false, error });
    expect(JSON.stringify(parsed)).not.toContain('secret');
  });

  it('puts the output in the bucket reducers at the outputPath endpoint', () => {
    expect(apolloOutputLocation('http://minio:9000')).toBe('http://minio:9000/reducers/');
    expect(apolloOutputLocation('http://minio:9000/')).toBe('http://minio:9000/reducers/');
  });

  it('renders a job with a status, and an endTime for every finished job, failed ones too', () => {
    const source = {
      id: 'j-1',
      nReducers: 3,
      inputPath: request.inputPath,
      outputPath: request.outputPath,
      useSSL: false,
      submittedAt: '2025-03-08T12:26:19Z',
      finishedAt: null,
      status: 'running' as const,
    };
    const running = apolloJobOf(source);
    expect(running).toEqual({
      id: 'j-1',
      nReducers: 3,
      outputLocation: { location: request.outputPath, useSSL: false },
      inputData: { id: 'j-1-input', path: request.inputPath, type: 'file/txt' },
      startTime: 1741436779,
      status: 'running',
    });
    expect('endTime' in running).toBe(false);
    const failed = apolloJobOf({ ...source, finishedAt: '2025-03-08T12:27:00Z', status: 'failed' });
    expect(failed.endTime).toBe(1741436820);
    const artifact = apolloArtifactOf({ name: 'mapper', size: 1, sha256: 'a'.repeat(64) });
    const created = apolloCreatedJob(running, artifact, artifact);
    expect(created).toMatchObject({ id: 'j-1', job: running, mProgram: artifact, rProgram: artifact });
  });

  it('renders tasks with ids <job>-m-<i> and <job>-r-<i>; reducers have no inputData', () => {
    const program = apolloArtifactOf({ name: 'mapper', size: 1, sha256: 'a'.repeat(64) });
    expect(
      apolloTaskOf({
        jobId: 'j-1',
        kind: 'map',
        index: 0,
        status: 'in-progress',
        program,
        split: { path: request.inputPath, start: 0, end: 1000 },
        worker: 'host-a',
        startedAt: '2025-03-08T12:26:19Z',
      }),
    ).toEqual({
      id: 'j-1-m-0',
      job: 'j-1',
      type: 'mapper',
      status: 'in-progress',
      program,
      inputData: {
        id: 'j-1-m-0-input',
        path: request.inputPath,
        type: 'file/txt',
        splitStart: 0,
        splitEnd: 1000,
      },
      podName: 'host-a',
      startTime: 1741436779,
    });
    const reducer = apolloTaskOf({ jobId: 'j-1', kind: 'reduce', index: 2, status: 'scheduled', program });
    expect(reducer).toEqual({ id: 'j-1-r-2', job: 'j-1', type: 'reducer', status: 'scheduled', program });
  });

  it("speaks the coordinator's sentences for a stop", () => {
    expect(apolloJobStopped('j-1')).toBe('Job j-1 was successfully stopped');
    expect(apolloJobAlreadyFinished('j-1')).toBe('Job j-1 already finished its workload!');
  });
});
