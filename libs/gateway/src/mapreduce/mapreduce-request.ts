import { MAPREDUCE_PROTOCOLS, SECRET_ID_PATTERN } from '@spindle/contracts';
import type { MapReduceProtocol } from '@spindle/contracts';
import type { FieldViolation } from '@spindle/platform';

export const DEFAULT_SPLIT_SIZE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_TASK_TIMEOUT_MS = 10 * 60_000;
export const MAX_REDUCERS = 1_000;

// A MapReduce job as a client asks for it, natively or through a dialect: programs by artifact
// name, storage credentials by secret id (whatever stored them).
export interface MapReduceRequest {
  readonly protocol: MapReduceProtocol;
  readonly inputPath: string;
  readonly outputPath: string;
  readonly nReducers: number;
  readonly mapper: string;
  readonly reducer: string | null;
  readonly splitSize: number;
  readonly taskTimeoutMs: number;
  readonly inputSecret: string | null;
  readonly outputSecret: string | null;
}

const FIELDS = new Set([
  'protocol',
  'inputPath',
  'outputPath',
  'nReducers',
  'mapper',
  'reducer',
  'splitSize',
  'taskTimeoutMs',
  'inputSecret',
  'outputSecret',
]);

// The native body: every violation named by its field and rule (the storage allowlist is checked
// by the service, which knows it).
export function parseMapReduceRequest(
  body: unknown,
): { ok: true; request: MapReduceRequest } | { ok: false; errors: FieldViolation[] } {
  const errors: FieldViolation[] = [];
  const bad = (field: string, rule: string, message: string): void =>
    void errors.push({ field, rule, message });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return {
      ok: false,
      errors: [{ field: 'body', rule: 'isObject', message: 'the body must be a JSON object' }],
    };
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input))
    if (!FIELDS.has(key)) bad(key, 'known', `${key} is not a field of a MapReduce job`);
  const protocol = input['protocol'] ?? 'streaming';
  if (!(MAPREDUCE_PROTOCOLS as readonly unknown[]).includes(protocol))
    bad('protocol', 'isIn', `protocol must be one of ${MAPREDUCE_PROTOCOLS.join(', ')}`);
  for (const field of ['inputPath', 'outputPath', 'mapper'] as const)
    if (typeof input[field] !== 'string' || input[field] === '')
      bad(field, 'required', `${field} must be a non-empty string`);
  const nReducers = input['nReducers'] ?? 1;
  if (!Number.isInteger(nReducers) || (nReducers as number) < 0 || (nReducers as number) > MAX_REDUCERS)
    bad('nReducers', 'range', `nReducers must be an integer from 0 to ${MAX_REDUCERS}`);
  const reducer = input['reducer'] ?? null;
  if (reducer !== null && (typeof reducer !== 'string' || reducer === ''))
    bad('reducer', 'isString', 'reducer must be an artifact name');
  if (reducer === null && nReducers !== 0)
    bad('reducer', 'required', 'reducer is required unless nReducers is 0');
  const splitSize = input['splitSize'] ?? DEFAULT_SPLIT_SIZE_BYTES;
  if (!Number.isSafeInteger(splitSize) || (splitSize as number) < 1)
    bad('splitSize', 'positive', 'splitSize must be a positive integer (bytes)');
  const taskTimeoutMs = input['taskTimeoutMs'] ?? DEFAULT_TASK_TIMEOUT_MS;
  if (
    !Number.isInteger(taskTimeoutMs) ||
    (taskTimeoutMs as number) < 1_000 ||
    (taskTimeoutMs as number) > 86_400_000
  )
    bad('taskTimeoutMs', 'range', 'taskTimeoutMs must be an integer from 1000 to 86400000');
  for (const field of ['inputSecret', 'outputSecret'] as const) {
    const value = input[field];
    if (
      value !== undefined &&
      value !== null &&
      (typeof value !== 'string' || !SECRET_ID_PATTERN.test(value))
    )
      bad(field, 'secretId', `${field} must be a secret id`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      protocol: protocol as MapReduceProtocol,
      inputPath: input['inputPath'] as string,
      outputPath: input['outputPath'] as string,
      nReducers: nReducers as number,
      mapper: input['mapper'] as string,
      reducer: nReducers === 0 ? null : (reducer as string),
      splitSize: splitSize as number,
      taskTimeoutMs: taskTimeoutMs as number,
      inputSecret: (input['inputSecret'] as string | undefined) ?? null,
      outputSecret: (input['outputSecret'] as string | undefined) ?? null,
    },
  };
}
