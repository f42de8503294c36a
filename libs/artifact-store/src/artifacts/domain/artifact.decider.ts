import { artifactKindOf, commandError, isArtifactEvent } from '@spindle/contracts';
import type { ArtifactEvent, SpindleEvent, CommandError, NewEvent } from '@spindle/contracts';
import type { Decider } from '@spindle/backbone';
import type { StoredBlob } from '../../blobs/blob-store';

export type ArtifactState =
  { readonly status: 'absent' | 'deleted' } | { readonly status: 'stored'; readonly sha256: string };

export type ArtifactCommand =
  | {
      readonly kind: 'store';
      readonly name: string;
      readonly blob: StoredBlob;
      readonly contentType: string;
      readonly force: boolean;
    }
  | { readonly kind: 'delete'; readonly name: string };

export const artifactDecider: Decider<ArtifactCommand, ArtifactState> = {
  initialState: { status: 'absent' },
  evolve: (_state: ArtifactState, event: SpindleEvent): ArtifactState => {
    if (!isArtifactEvent(event)) throw new Error(`unexpected ${event.type} in a artifact stream`);
    switch (event.type) {
      case 'ArtifactStored':
        return { status: 'stored', sha256: event.data.sha256 };
      case 'ArtifactDeleted':
        return { status: 'deleted' };
      default: {
        const unknownEvent: never = event;
        throw new Error(`unexpected artifact event ${JSON.stringify(unknownEvent)}`);
      }
    }
  },
  decide: (
    command: ArtifactCommand,
    state: ArtifactState,
  ): readonly NewEvent<ArtifactEvent>[] | CommandError => {
    switch (command.kind) {
      case 'store':
        // Names are unique; `force` replaces the content under the same name.
        if (state.status === 'stored' && !command.force) {
          return commandError('conflict', `artifact ${command.name} already exists`, 'name');
        }
        if (state.status === 'stored' && state.sha256 === command.blob.sha256) return [];
        return [
          {
            type: 'ArtifactStored',
            version: 1,
            data: {
              name: command.name,
              kind: artifactKindOf(command.name),
              size: command.blob.size,
              sha256: command.blob.sha256,
              sha1: command.blob.sha1,
              contentType: command.contentType,
            },
          },
        ];
      case 'delete':
        if (state.status !== 'stored')
          return commandError('not_found', `artifact ${command.name} does not exist`, 'name');
        return [{ type: 'ArtifactDeleted', version: 1, data: { name: command.name } }];
      default: {
        const unknownCommand: never = command;
        throw new Error(`unexpected artifact command ${JSON.stringify(unknownCommand)}`);
      }
    }
  },
};
