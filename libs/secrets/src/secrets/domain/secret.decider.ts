import { EventTopics, commandError, secretStreamId } from '@spindle/contracts';
import type { CommandError, EventEnvelope, NewEvent, SecretActor, SecretEvent } from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

export type SecretState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active';
      readonly version: number;
      readonly keys: readonly string[];
      readonly createdAt: string; // of the first version since it was (re)created
    }
  | { readonly status: 'deleted'; readonly version: number };

// Values never enter the decider: a write names its keys, and the service seals the values into
// the version the decision made, in the same transaction.
export type SecretCommand =
  | {
      readonly kind: 'write';
      readonly id: string;
      readonly keys: readonly string[];
      readonly masterKeyId: string;
      readonly actor: SecretActor;
    }
  // keys undefined: every key of the latest version.
  | {
      readonly kind: 'read';
      readonly id: string;
      readonly keys?: readonly string[];
      readonly actor: SecretActor;
    }
  | { readonly kind: 'delete'; readonly id: string; readonly actor: SecretActor }
  | {
      readonly kind: 'rewrap';
      readonly id: string;
      readonly versions: readonly { readonly version: number; readonly fromKeyId: string }[];
      readonly toKeyId: string;
    };

export function evolveSecret(state: SecretState, envelope: EventEnvelope): SecretState {
  const event = envelope as SecretEvent;
  switch (event.type) {
    case 'SecretWritten':
      return {
        status: 'active',
        version: event.data.version,
        keys: event.data.keys,
        createdAt: state.status === 'active' ? state.createdAt : event.occurredAt,
      };
    case 'SecretDeleted':
      return { status: 'deleted', version: event.data.version };
    case 'SecretRead':
    case 'SecretRewrapped':
      return state; // audit and key handling: the secret itself is unchanged
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected secret event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export function decideSecret(command: SecretCommand, state: SecretState): readonly NewEvent[] | CommandError {
  switch (command.kind) {
    case 'write':
      // Every write is a new version, numbered on across a delete.
      return [
        {
          type: 'SecretWritten',
          version: 1,
          data: {
            id: command.id,
            version: state.status === 'absent' ? 1 : state.version + 1,
            keys: [...command.keys].sort(),
            masterKeyId: command.masterKeyId,
            actor: command.actor,
          },
        },
      ];
    case 'read': {
      if (state.status !== 'active')
        return commandError('not_found', `secret ${command.id} does not exist`, 'id');
      const missing = (command.keys ?? []).filter((k) => !state.keys.includes(k));
      if (missing.length > 0)
        return commandError('not_found', `secret ${command.id} has no key ${missing.join(', ')}`, 'keys');
      return [
        {
          type: 'SecretRead',
          version: 1,
          data: {
            id: command.id,
            version: state.version,
            keys: [...(command.keys ?? state.keys)],
            actor: command.actor,
          },
        },
      ];
    }
    case 'delete':
      if (state.status !== 'active')
        return commandError('not_found', `secret ${command.id} does not exist`, 'id');
      return [
        {
          type: 'SecretDeleted',
          version: 1,
          data: { id: command.id, version: state.version, actor: command.actor },
        },
      ];
    case 'rewrap':
      // A secret deleted meanwhile has no data keys left to wrap.
      if (state.status !== 'active' || command.versions.length === 0) return [];
      return [
        {
          type: 'SecretRewrapped',
          version: 1,
          data: { id: command.id, versions: [...command.versions], toKeyId: command.toKeyId },
        },
      ];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected secret command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const secretDecider: Decider<SecretCommand, SecretState> = {
  initialState: { status: 'absent' },
  evolve: evolveSecret,
  decide: decideSecret,
};

export const secretCommands = {
  decider: secretDecider,
  topic: EventTopics.secret,
  streamIdOf: (command: { id: string }) => secretStreamId(command.id),
};
