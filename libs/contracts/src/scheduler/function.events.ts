import { z } from 'zod';
import { commandMetadataShape, expectedVersionShape } from '../command-metadata';
import { isEventOf } from '../envelope';
import type { EventData, EventsOf } from '../envelope';
import { ARTIFACT_NAME_PATTERN } from '../artifacts/artifact.events';
import { CONTEXT_NAME_PATTERN } from './context-settings';
import { secretRefsSchema } from '../secrets/secret-refs';

// node, python and jvm-runner run in a worker's long-lived runner (many tasks, warm); exec and jvm
// start a process per task (jvm: a main class).
export const RUNTIMES = ['node', 'python', 'exec', 'jvm', 'jvm-runner'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export const FUNCTION_RETRIES_MAX = 10;

export function functionStreamId(name: string): string {
  return `function-${name}`;
}

// At most this many libraries per function.
export const FUNCTION_LIBRARIES_MAX = 50;

// A further artifact that a job of the function has on its program path beside its main artifact
// (a module the program imports, a library jar), placed beside the program under `fileName`: the
// name the program imports it by (`helpers.py` for `import helpers`). Recorded with `fileName`
// always (the decider fills in the artifact's name when a command leaves it out).
export const functionLibrarySchema = z.object({
  artifact: z.string().regex(ARTIFACT_NAME_PATTERN),
  fileName: z.string().regex(ARTIFACT_NAME_PATTERN).optional(),
});
export type FunctionLibrary = z.infer<typeof functionLibrarySchema>;

export const functionDefinitionSchema = z.object({
  artifact: z.string().regex(ARTIFACT_NAME_PATTERN),
  // Mist's className, a node export, a python function name, a class (jvm-runner), or empty for exec.
  entrypoint: z.string().max(512),
  runtime: z.enum(RUNTIMES),
  defaultContext: z.string().regex(CONTEXT_NAME_PATTERN),
  tags: z.array(z.string().regex(TAG_PATTERN)).max(50),
  // How often a job of the function is put back in its queue when its worker host dies under it
  // (0: it fails). Absent in events recorded before retry policies: 0.
  retries: z.number().int().min(0).max(FUNCTION_RETRIES_MAX).optional(),
  // Secrets every job of the function gets as environment variables (references only; absent in
  // events recorded before secrets: none).
  secrets: secretRefsSchema.optional(),
  // Absent in events recorded before libraries, and when the function has none.
  libraries: z.array(functionLibrarySchema).max(FUNCTION_LIBRARIES_MAX).optional(),
});
export type FunctionDefinition = z.infer<typeof functionDefinitionSchema>;

const withName = functionDefinitionSchema.extend({ name: z.string().regex(FUNCTION_NAME_PATTERN) });

export const functionEventDataSchemas = {
  'FunctionRegistered@1': withName,
  'FunctionChanged@1': withName,
  'FunctionDeleted@1': z.object({ name: z.string() }),
} as const;

type Schemas = typeof functionEventDataSchemas;
export type FunctionRegisteredV1 = EventData<Schemas['FunctionRegistered@1']>;
export type FunctionChangedV1 = EventData<Schemas['FunctionChanged@1']>;
export type FunctionDeletedV1 = EventData<Schemas['FunctionDeleted@1']>;

// On topic spindle.scheduler.function.v1.
export type FunctionEvent = EventsOf<Schemas>;
export const isFunctionEvent = isEventOf(functionEventDataSchemas);

// What a command names: a register leaves out what takes its default (no entrypoint, the default
// context, no tags, no retries, no secrets, no libraries), a change what keeps its value; the decider fills both.
export const registerFunctionCommandSchema = z.object({
  ...commandMetadataShape,
  name: z.string().regex(FUNCTION_NAME_PATTERN),
  definition: functionDefinitionSchema.partial({ entrypoint: true, defaultContext: true, tags: true }),
});
export type RegisterFunctionCommand = z.infer<typeof registerFunctionCommandSchema>;
export const changeFunctionCommandSchema = z.object({
  ...commandMetadataShape,
  name: z.string().regex(FUNCTION_NAME_PATTERN),
  definition: functionDefinitionSchema.partial(),
  ...expectedVersionShape,
});
export type ChangeFunctionCommand = z.infer<typeof changeFunctionCommandSchema>;
export const deleteFunctionCommandSchema = z.object({
  ...commandMetadataShape,
  name: z.string().regex(FUNCTION_NAME_PATTERN),
});
export type DeleteFunctionCommand = z.infer<typeof deleteFunctionCommandSchema>;
