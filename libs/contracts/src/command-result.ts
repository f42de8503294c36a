import type { SpindleEvent } from './event-registry';

// What an owning service answers to a command, on any transport. Errors are values, not
// exceptions, so they survive serialization and map cleanly onto HTTP problems at the edge.
export type CommandErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unavailable'
  // The entity is not at the version the command expected (it changed since the client read it).
  | 'precondition_failed';

export interface CommandError {
  readonly code: CommandErrorCode;
  readonly message: string;
  readonly field?: string;
}

export type CommandResult =
  | {
      readonly ok: true;
      readonly streamId: string;
      readonly streamPosition: number;
      // The events the command recorded: the caller can show their effect at once (projecting them
      // with the read model's own evolve) instead of waiting for the read model to catch up.
      readonly events?: readonly SpindleEvent[];
    }
  | { readonly ok: false; readonly error: CommandError };

// A refusal, as a decider returns it: the code, a message, and the field it names if any.
export function commandError(code: CommandErrorCode, message: string, field?: string): CommandError {
  return field === undefined ? { code, message } : { code, message, field };
}

export function commandFailed(code: CommandErrorCode, message: string, field?: string): CommandResult {
  return { ok: false, error: commandError(code, message, field) };
}
