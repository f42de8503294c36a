import { EventTopics, apiKeyStreamId, commandError, isApiKeyEvent } from '@spindle/contracts';
import type {
  ApiKeyEvent,
  CommandError,
  CreateApiKeyCommand,
  NewEvent,
  RevokeApiKeyCommand,
  SpindleEvent,
} from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';

// A key is created once, under an id the gateway drew at random, and revoked at most once. Its
// expiry is the gateway's to enforce at every use (time passes without events).
export type ApiKeyState =
  { readonly status: 'absent' } | { readonly status: 'active' } | { readonly status: 'revoked' };

export type ApiKeyCommand =
  ({ readonly kind: 'create' } & CreateApiKeyCommand) | ({ readonly kind: 'revoke' } & RevokeApiKeyCommand);

export function evolveApiKey(_state: ApiKeyState, event: SpindleEvent): ApiKeyState {
  if (!isApiKeyEvent(event)) throw new Error(`unexpected ${event.type} in an API key stream`);
  switch (event.type) {
    case 'ApiKeyCreated':
      return { status: 'active' };
    case 'ApiKeyRevoked':
      return { status: 'revoked' };
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected API key event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export function decideApiKey(
  command: ApiKeyCommand,
  state: ApiKeyState,
): readonly NewEvent<ApiKeyEvent>[] | CommandError {
  switch (command.kind) {
    case 'create': {
      if (state.status !== 'absent')
        return commandError('conflict', `API key ${command.keyId} already exists`, 'keyId');
      const { keyId, name, scopes, expiresAt, verifier } = command;
      if (expiresAt !== null && Date.parse(expiresAt) <= Date.parse(command.issuedAt))
        return commandError('invalid', 'expiresAt must be in the future', 'expiresAt');
      return [
        {
          type: 'ApiKeyCreated',
          version: 1,
          data: { keyId, name, scopes: [...new Set(scopes)], expiresAt, verifier },
        },
      ];
    }
    case 'revoke':
      if (state.status === 'absent')
        return commandError('not_found', `API key ${command.keyId} does not exist`, 'keyId');
      // Revoking twice is what a retry does: the key stays revoked, nothing new is recorded.
      if (state.status === 'revoked') return [];
      return [{ type: 'ApiKeyRevoked', version: 1, data: { keyId: command.keyId } }];
    default: {
      const unknownCommand: never = command;
      throw new Error(`unexpected API key command ${JSON.stringify(unknownCommand)}`);
    }
  }
}

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyState> = {
  initialState: { status: 'absent' },
  evolve: evolveApiKey,
  decide: decideApiKey,
};

export const apiKeyCommands = {
  decider: apiKeyDecider,
  topic: EventTopics.schedulerApiKey,
  streamIdOf: (command: { keyId: string }) => apiKeyStreamId(command.keyId),
};
