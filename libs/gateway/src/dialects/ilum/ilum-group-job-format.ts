import { FUNCTION_NAME_PATTERN } from '@spindle/contracts';
import type { GroupLanguage, Runtime } from '@spindle/contracts';
import type { JobView } from '@spindle/read-models';
import { groupArtifactName } from '../../groups/group-definitions.service';
import { ilumInvalid } from './ilum-errors.filter';

// A jobClass: a JVM class's full name (SCALA: `com.acme.WordCount`; not a nested class), or
// `module.Name` (PYTHON, NODE: a program file of the group, `module.py` or `module.js`, and the
// class or export in it).
const JOB_CLASS_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127}){0,31}$/;
const MODULE_NAME_PATTERN = /^([A-Za-z_][A-Za-z0-9_]{0,63})\.([A-Za-z_][A-Za-z0-9_]{0,63})$/;
const MAX_JOB_CONFIG_BYTES = 64 * 1024;

const MAX_CODE_BYTES = 256 * 1024;

// Ilum's `groupJobCreation`: a program's class on a JOB group, code (or its completion at a
// cursor) on a CODE group.
export type GroupJobRequest =
  | {
      readonly type: 'interactive_job_execute';
      readonly jobClass: string;
      readonly jobConfig: Record<string, unknown>;
    }
  | { readonly type: 'interactive_code_execute'; readonly code: string }
  | { readonly type: 'interactive_code_complete'; readonly code: string; readonly cursor: number };

// Anything malformed is a 409 naming the field. `type` defaults to interactive_job_execute.
export function parseGroupJobRequest(body: unknown): GroupJobRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw ilumInvalid(
      'the body must be a JSON object {type, jobClass, jobConfig}, {type, code} or {type, code, cursor}',
    );
  const {
    type = 'interactive_job_execute',
    jobClass,
    jobConfig,
    code,
    cursor,
  } = body as Record<string, unknown>;
  if (type === 'interactive_code_execute') {
    if (typeof code !== 'string' || code.trim() === '')
      throw ilumInvalid('code must be a string of code that is not blank');
    return { type, code: boundedCode(code) };
  }
  // The cursor counts UTF-16 code units, as a JSON client's strings do (the code's length at most).
  if (type === 'interactive_code_complete') {
    if (typeof code !== 'string') throw ilumInvalid('code must be a string of code');
    if (typeof cursor !== 'number' || !Number.isInteger(cursor) || cursor < 0 || cursor > code.length)
      throw ilumInvalid(`cursor must be an integer from 0 to the code's length (${code.length})`);
    return { type, code: boundedCode(code), cursor };
  }
  if (type !== 'interactive_job_execute')
    throw ilumInvalid(
      'type must be interactive_job_execute, interactive_code_execute or interactive_code_complete',
    );
  if (typeof jobClass !== 'string' || !JOB_CLASS_PATTERN.test(jobClass))
    throw ilumInvalid(
      'jobClass must be a class name: module.Name (PYTHON, NODE: a program file of the group and a ' +
        "class or export in it) or the full name of a class in the group's jar (SCALA)",
    );
  if (
    jobConfig !== undefined &&
    (typeof jobConfig !== 'object' || jobConfig === null || Array.isArray(jobConfig))
  )
    throw ilumInvalid('jobConfig must be an object');
  const config = (jobConfig ?? {}) as Record<string, unknown>;
  if (JSON.stringify(config).length > MAX_JOB_CONFIG_BYTES)
    throw ilumInvalid(`jobConfig must be at most ${MAX_JOB_CONFIG_BYTES} bytes of JSON`);
  return { type, jobClass, jobConfig: config };
}

function boundedCode(code: string): string {
  if (Buffer.byteLength(code) > MAX_CODE_BYTES)
    throw ilumInvalid(`code must be at most ${MAX_CODE_BYTES} bytes`);
  return code;
}

export interface GroupProgram {
  // The program file's own name, as uploaded; null: the group's jar (SCALA), whatever its name.
  readonly file: string | null;
  readonly entrypoint: string;
  readonly runtime: Runtime;
}

// Which file and entry a jobClass names in a group of this language. SCALA: the class in the
// group's jar, run by the worker's long-lived JVM (runtime jvm-runner: tools/jvm-runner).
export function groupProgramOf(language: GroupLanguage, jobClass: string): GroupProgram {
  if (language === 'SCALA') return { file: null, entrypoint: jobClass, runtime: 'jvm-runner' };
  const parts = MODULE_NAME_PATTERN.exec(jobClass);
  if (!parts)
    throw ilumInvalid(
      `jobClass must be module.Name in a ${language} group (a program file of the group and a class or export in it)`,
    );
  const [, module, name] = parts;
  switch (language) {
    case 'PYTHON':
      return { file: `${module}.py`, entrypoint: name!, runtime: 'python' };
    case 'NODE':
      return { file: `${module}.js`, entrypoint: name!, runtime: 'node' };
    default: {
      const unknownLanguage: never = language;
      throw ilumInvalid(`language ${String(unknownLanguage)} cannot run requests`);
    }
  }
}

// The arguments a request's program is called with: python `run(self, spark, config)` and JVM
// `run(spark, config)` (no Spark runtime: spark is None, null), node `export({config}, ctx)`.
export function groupJobArgs(runtime: Runtime, jobConfig: Record<string, unknown>): Record<string, unknown> {
  return runtime === 'node' ? { config: jobConfig } : { spark: null, config: jobConfig };
}

// The function a group's jobClass runs as (registered on first use): `group-<groupId>-<jobClass>`,
// named like the group's uploads so that deleting the group finds and removes it (and the instance
// reads its jobClass back from it). A name too long for a function is refused, naming the bound.
export function groupJobFunction(groupId: string, jobClass: string): string {
  const name = groupArtifactName(groupId, jobClass);
  if (jobClass !== '' && !FUNCTION_NAME_PATTERN.test(name))
    throw ilumInvalid(
      `jobClass must be at most ${MAX_FUNCTION_NAME - groupArtifactName(groupId, '').length} characters in this group`,
    );
  return name;
}
const MAX_FUNCTION_NAME = 128;

// What a CODE group's requests run as: its session program (`code-session/`), uploaded as
// `group-<groupId>--code.<py|cjs|jar>` and registered as function `group-<groupId>--code`. An uploaded
// file's name never starts with "-", so these cannot meet a file of the group.
const CODE_SESSION = '-code';
export function groupCodeFunction(groupId: string): string {
  return groupArtifactName(groupId, CODE_SESSION);
}
export function groupCodeArtifact(groupId: string, extension: 'py' | 'cjs' | 'jar'): string {
  return groupArtifactName(groupId, `${CODE_SESSION}.${extension}`);
}

// Ilum's groupJobInstanceInfo. `jobId` is the worker (Ilum's interactive job) that ran it; the
// result is a string (a program's non-string result as JSON: a completion's candidates are a JSON
// array); a failure is error{message, stackTrace}, the message being the error's line of the
// trace. A CODE group's request has no jobClass (null) and no jobConfig ({}).
export function groupJobInstanceOf(groupId: string, job: JobView): Record<string, unknown> {
  const prefix = groupJobFunction(groupId, '');
  const isCode = job.function === groupCodeFunction(groupId);
  const config = (job.args['config'] ?? {}) as Record<string, unknown>;
  const value = job.result?.value;
  const failed = job.state === 'failed' || job.state === 'timed_out' || job.state === 'cancelled';
  const trace = job.error ?? job.state;
  return {
    jobInstanceId: job.id,
    jobId: job.workerId,
    groupId,
    startTime: job.startedAt?.getTime() ?? null,
    endTime: job.finishedAt?.getTime() ?? null,
    jobClass: isCode
      ? null
      : job.function.startsWith(prefix)
        ? job.function.slice(prefix.length)
        : job.function,
    jobConfig: config,
    result:
      job.state === 'succeeded' ? (typeof value === 'string' ? value : JSON.stringify(value ?? null)) : null,
    error: failed ? { message: errorMessageOf(trace), stackTrace: trace } : null,
  };
}

// A python traceback ends with the error; a JavaScript stack (and any other text) starts with it.
function errorMessageOf(trace: string): string {
  const lines = trace.trim().split('\n');
  return (trace.startsWith('Traceback') ? lines[lines.length - 1]! : lines[0]!).trim();
}
