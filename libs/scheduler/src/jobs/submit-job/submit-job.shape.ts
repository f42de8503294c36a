import { commandFailed, mergeSecretRefs } from '@spindle/contracts';
import type { CommandResult, SubmitJobCommand } from '@spindle/contracts';
import type { FunctionState } from '../../functions/domain/function.decider';
import type { JobCommand } from '../domain/job.decider';

// The scheduler's own view of a submit's references: the function's folded stream and whether its
// context is live. The gateway looked them up in the read models; here they are checked again
// against the scheduler's state, which is the truth.
export interface SubmitReferences {
  readonly fn: FunctionState;
  readonly contextLive: (name: string) => boolean;
}

// Pure: a validated submit and its references → the decider's command, or the refusal.
export function shapeSubmit(command: SubmitJobCommand, refs: SubmitReferences): JobCommand | CommandResult {
  const { fn } = refs;
  if (fn.status !== 'registered')
    return commandFailed('not_found', `function ${command.function} does not exist`, 'function');
  const libraries = fn.definition.libraries ?? [];
  const submitted = command.libraries ?? [];
  if (
    fn.definition.artifact !== command.artifact ||
    libraries.length !== submitted.length ||
    libraries.some((library, i) => library.artifact !== submitted[i]!.artifact)
  )
    return commandFailed(
      'conflict',
      `function ${command.function} changed while the job was submitted; retry`,
    );
  const context = command.context ?? fn.definition.defaultContext;
  if (!refs.contextLive(context))
    return commandFailed('invalid', `context ${context} does not exist`, 'context');
  // The function's secrets, and the submit's added to them: references only.
  const secrets = mergeSecretRefs(fn.definition.secrets, command.secrets);
  return {
    kind: 'submit',
    id: command.id,
    job: {
      id: command.id,
      function: command.function,
      context,
      args: command.args,
      program: {
        artifact: command.artifact,
        sha256: command.artifactSha256,
        entrypoint: fn.definition.entrypoint,
        runtime: fn.definition.runtime,
        // Each library with the content the gateway found and the name the function gives it.
        ...(libraries.length > 0
          ? {
              libraries: libraries.map((library, i) => ({
                artifact: library.artifact,
                sha256: submitted[i]!.sha256,
                fileName: library.fileName ?? library.artifact,
              })),
            }
          : {}),
      },
      externalId: command.externalId ?? null,
      startTimeoutMs: command.startTimeoutMs ?? null,
      performTimeoutMs: command.performTimeoutMs ?? null,
      // Left out when the sender did not say (a gateway older than sources): unknown, not guessed.
      ...(command.source === undefined ? {} : { source: command.source }),
      // The function's retry policy as of now: a later change to the function does not change it.
      ...(fn.definition.retries ? { retries: fn.definition.retries } : {}),
      ...(secrets.length > 0 ? { secrets } : {}),
      ...(command.name === undefined ? {} : { name: command.name }),
      ...(command.cluster === undefined ? {} : { cluster: command.cluster }),
      ...(command.tags === undefined ? {} : { tags: command.tags }),
    },
  };
}
