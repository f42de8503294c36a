// Apollo's shapes, as its coordinator answers them (docs/dialects/apollo.md): pure mappings from
// Spindle's artifacts, MapReduce jobs and tasks, and the parsing of a job request with the
// coordinator's own rules and messages.

export const APOLLO_PREFIX = 'compat/apollo/api/v1';

export interface ApolloArtifact {
  readonly name: string;
  readonly type: 'executable'; // every Apollo artifact is one
  readonly size: number;
  readonly hash: string; // sha256, hex
}

export const apolloArtifactOf = (artifact: {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}): ApolloArtifact => ({
  name: artifact.name,
  type: 'executable',
  size: artifact.size,
  hash: artifact.sha256,
});

// The coordinator counts in Unix seconds (its docs show milliseconds; its clients see seconds).
export const unixSeconds = (at: Date | string): number => Math.floor(new Date(at).getTime() / 1000);

export const APOLLO_INPUT_TYPES = ['file/txt'] as const;

export interface ApolloCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ApolloJobRequest {
  readonly nReducers: number;
  readonly inputPath: string;
  readonly inputType: (typeof APOLLO_INPUT_TYPES)[number];
  readonly outputPath: string;
  readonly useSSL: boolean;
  readonly mapperName: string;
  readonly reducerName: string;
  readonly inputStorageCredentials: ApolloCredentials;
  readonly outputStorageCredentials: ApolloCredentials;
  readonly splitSize?: number;
}

const REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'nReducers',
  'inputPath',
  'inputType',
  'outputPath',
  'useSSL',
  'mapperName',
  'reducerName',
  'inputStorageCredentials',
  'outputStorageCredentials',
  'splitSize',
]);
const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(['username', 'password']);
// Spindle's bound on reducers per job; Apollo has none (a pod per reducer).
export const MAX_APOLLO_REDUCERS = 1_000;

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const refuse = (error: string): { ok: false; error: string } => ({ ok: false, error });

// The coordinator decodes with Go's DisallowUnknownFields (an unknown field is a 400 naming it) and
// refuses an input type other than file/txt with its own sentence. The messages name the field and
// the rule, never a credential's value.
export function parseApolloJobRequest(body: unknown): Parsed<ApolloJobRequest> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return refuse('the request body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((k) => !REQUEST_FIELDS.has(k));
  if (unknown !== undefined) return refuse(`json: unknown field "${unknown}"`);
  const { nReducers, splitSize, useSSL, inputType } = input;
  if (
    !Number.isInteger(nReducers) ||
    (nReducers as number) < 0 ||
    (nReducers as number) > MAX_APOLLO_REDUCERS
  ) {
    return refuse(`nReducers must be an integer from 0 to ${MAX_APOLLO_REDUCERS}`);
  }
  for (const field of ['inputPath', 'outputPath', 'mapperName', 'reducerName', 'inputType'] as const) {
    if (typeof input[field] !== 'string' || input[field] === '')
      return refuse(`${field} must be a non-empty string`);
  }
  if (!(APOLLO_INPUT_TYPES as readonly unknown[]).includes(inputType)) {
    return refuse(
      `${String(inputType)} isn't in the allowed input types list [${APOLLO_INPUT_TYPES.join(' ')}]`,
    );
  }
  if (useSSL !== undefined && typeof useSSL !== 'boolean') return refuse('useSSL must be a boolean');
  if (splitSize !== undefined && (!Number.isSafeInteger(splitSize) || (splitSize as number) < 1)) {
    return refuse('splitSize must be a positive integer (bytes)');
  }
  const credentials: Partial<
    Record<'inputStorageCredentials' | 'outputStorageCredentials', ApolloCredentials>
  > = {};
  for (const field of ['inputStorageCredentials', 'outputStorageCredentials'] as const) {
    const value = input[field];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return refuse(`${field} must be an object {username, password}`);
    }
    const given = value as Record<string, unknown>;
    const extra = Object.keys(given).find((k) => !CREDENTIAL_FIELDS.has(k));
    if (extra !== undefined) return refuse(`json: unknown field "${extra}"`);
    if (typeof given['username'] !== 'string' || typeof given['password'] !== 'string') {
      return refuse(`${field}.username and ${field}.password must be strings`);
    }
    credentials[field] = { username: given['username'], password: given['password'] };
  }
  return {
    ok: true,
    value: {
      nReducers: nReducers as number,
      inputPath: input['inputPath'] as string,
      inputType: 'file/txt',
      outputPath: input['outputPath'] as string,
      useSSL: useSSL ?? false,
      mapperName: input['mapperName'] as string,
      reducerName: input['reducerName'] as string,
      inputStorageCredentials: credentials.inputStorageCredentials!,
      outputStorageCredentials: credentials.outputStorageCredentials!,
      ...(splitSize === undefined ? {} : { splitSize: splitSize as number }),
    },
  };
}

// Apollo writes its output to the bucket `reducers` at outputPath, an endpoint URL.
export function apolloOutputLocation(outputPath: string): string {
  return `${outputPath.replace(/\/+$/, '')}/reducers/`;
}

// Spindle's job status, which Apollo lacks (it says running by the absence of an endTime).
export type ApolloJobStatus = 'running' | 'succeeded' | 'failed' | 'stopped';
export const APOLLO_TASK_STATUSES = [
  'scheduled',
  'idle',
  'in-progress',
  'completed',
  'failed',
  'stopped',
] as const;
export type ApolloTaskStatus = (typeof APOLLO_TASK_STATUSES)[number];

export interface ApolloJob {
  readonly id: string;
  readonly nReducers: number;
  readonly outputLocation: { readonly location: string; readonly useSSL: boolean };
  readonly inputData: { readonly id: string; readonly path: string; readonly type: string };
  readonly startTime: number;
  readonly endTime?: number;
  readonly status: ApolloJobStatus;
}

export interface ApolloJobSource {
  readonly id: string;
  readonly nReducers: number;
  readonly inputPath: string;
  readonly outputPath: string;
  readonly useSSL: boolean;
  readonly submittedAt: Date | string;
  readonly finishedAt: Date | string | null;
  readonly status: ApolloJobStatus;
}

// Spindle sets endTime on failure too (Apollo never ends a failed job).
export function apolloJobOf(job: ApolloJobSource): ApolloJob {
  return {
    id: job.id,
    nReducers: job.nReducers,
    outputLocation: { location: job.outputPath, useSSL: job.useSSL },
    inputData: { id: `${job.id}-input`, path: job.inputPath, type: 'file/txt' },
    startTime: unixSeconds(job.submittedAt),
    ...(job.finishedAt === null ? {} : { endTime: unixSeconds(job.finishedAt) }),
    status: job.status,
  };
}

// POST answers the job's fields at the top level (what the docs show) and also {job, mProgram,
// rProgram} (what the real server sends), so clients of either read it.
export function apolloCreatedJob(job: ApolloJob, mapper: ApolloArtifact, reducer: ApolloArtifact) {
  return { ...job, job, mProgram: mapper, rProgram: reducer };
}

export interface ApolloTask {
  readonly id: string;
  readonly job: string;
  readonly type: 'mapper' | 'reducer';
  readonly status: ApolloTaskStatus;
  readonly program: ApolloArtifact;
  readonly inputData?: {
    readonly id: string;
    readonly path: string;
    readonly type: string;
    readonly splitStart: number;
    readonly splitEnd: number;
  };
  readonly podName?: string;
  readonly startTime?: number;
  readonly endTime?: number;
}

export interface ApolloTaskSource {
  readonly jobId: string;
  readonly kind: 'map' | 'reduce';
  readonly index: number;
  readonly status: ApolloTaskStatus;
  readonly program: ApolloArtifact;
  readonly split?: { readonly path: string; readonly start: number; readonly end: number };
  readonly worker?: string | null;
  readonly startedAt?: Date | string | null;
  readonly finishedAt?: Date | string | null;
}

// Ids `<job>-m-<i>` / `<job>-r-<i>`; reducers have no inputData, as in Apollo.
export function apolloTaskOf(task: ApolloTaskSource): ApolloTask {
  const id = `${task.jobId}-${task.kind === 'map' ? 'm' : 'r'}-${task.index}`;
  return {
    id,
    job: task.jobId,
    type: task.kind === 'map' ? 'mapper' : 'reducer',
    status: task.status,
    program: task.program,
    ...(task.split
      ? {
          inputData: {
            id: `${id}-input`,
            path: task.split.path,
            type: 'file/txt',
            splitStart: task.split.start,
            splitEnd: task.split.end,
          },
        }
      : {}),
    ...(task.worker ? { podName: task.worker } : {}),
    ...(task.startedAt ? { startTime: unixSeconds(task.startedAt) } : {}),
    ...(task.finishedAt ? { endTime: unixSeconds(task.finishedAt) } : {}),
  };
}

// The coordinator's sentences for DELETE /jobs/{id}.
export const apolloJobStopped = (id: string) => `Job ${id} was successfully stopped`;
export const apolloJobAlreadyFinished = (id: string) => `Job ${id} already finished its workload!`;
export const apolloNoSuchJob = (id: string) => `No job with id ${id} was found!`;
export const apolloNoSuchArtifact = (name: string) => `${name} artifact metadata can't be found!`;
