import { MAPREDUCE_SECRET_KEYS } from '@spindle/contracts';
import type { MapReduceJobAssignedV1, MapReduceJobPlannedV1 } from '@spindle/contracts';
import { ObjectStorage, allowedStorageLocation } from '@spindle/platform';
import type { StorageCredentials, StorageLocation } from '@spindle/platform';
import type { ArtifactCache } from '../agent/artifact-cache';
import type { SecretResolver } from '../agent/secret-resolver';
import type { HostConfinement } from '../sandbox/confinement';
import type { TaskJob } from './task-attempts';

type JobDefinition = MapReduceJobAssignedV1['job'];

// A job's input and output as a worker host reaches them: the locations checked against
// SPINDLE_STORAGE_ALLOW again, the credentials fetched from the secrets service by this host.
export async function jobStorage(
  definition: JobDefinition,
  allow: readonly string[],
  secrets: SecretResolver,
): Promise<{
  input: StorageLocation;
  inputCredentials: StorageCredentials;
  output: StorageLocation;
  outputCredentials: StorageCredentials;
}> {
  const input = allowedStorageLocation(definition.inputPath, allow, 'inputPath');
  const output = allowedStorageLocation(definition.outputPath, allow, 'outputPath');
  const [inputCredentials, outputCredentials] = await Promise.all([
    storageCredentials(secrets, definition.id, definition.inputSecretId),
    storageCredentials(secrets, definition.id, definition.outputSecretId),
  ]);
  return { input, inputCredentials, output, outputCredentials };
}

// What this host needs to run any attempt of the job: its programs, its storage, its splits. The
// caller closes it once the attempts that use it ended.
export async function taskJobOf(
  definition: JobDefinition,
  plan: MapReduceJobPlannedV1,
  deps: {
    readonly allow: readonly string[];
    readonly secrets: SecretResolver;
    readonly artifacts: ArtifactCache;
    readonly workRoot: string;
    readonly confinement: HostConfinement | null;
  },
): Promise<{ readonly job: TaskJob; readonly close: () => void }> {
  const [mapperPath, reducerPath, storage] = await Promise.all([
    deps.artifacts.materialize(definition.mapper.sha256, definition.mapper.artifact),
    definition.reducer
      ? deps.artifacts.materialize(definition.reducer.sha256, definition.reducer.artifact)
      : null,
    jobStorage(definition, deps.allow, deps.secrets),
  ]);
  const inputStorage = ObjectStorage.at(storage.input, storage.inputCredentials);
  const outputStorage = ObjectStorage.at(storage.output, storage.outputCredentials);
  return {
    job: {
      jobId: definition.id,
      protocol: definition.protocol,
      mapperPath,
      reducerPath,
      input: storage.input,
      inputStorage,
      output: storage.output,
      outputStorage,
      nReducers: definition.nReducers,
      splits: plan.maps,
      taskTimeoutMs: definition.taskTimeoutMs,
      workRoot: deps.workRoot,
      confinement: deps.confinement,
    },
    close: () => {
      inputStorage.destroy();
      outputStorage.destroy();
    },
  };
}

async function storageCredentials(
  secrets: SecretResolver,
  jobId: string,
  secretId: string | null,
): Promise<StorageCredentials> {
  if (secretId === null) return { accessKeyId: '', secretAccessKey: '' };
  const env = await secrets.resolve(jobId, [{ id: secretId }]);
  const accessKeyId = env[MAPREDUCE_SECRET_KEYS.accessKeyId];
  const secretAccessKey = env[MAPREDUCE_SECRET_KEYS.secretAccessKey];
  if (accessKeyId === undefined || secretAccessKey === undefined)
    throw new Error(
      `secret ${secretId} must hold ${MAPREDUCE_SECRET_KEYS.accessKeyId} and ${MAPREDUCE_SECRET_KEYS.secretAccessKey}`,
    );
  return { accessKeyId, secretAccessKey };
}
