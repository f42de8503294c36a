import { isArtifactEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { READ_MODEL_SOURCES, ArtifactView } from '@spindle/read-models';

export function evolveArtifactView(row: ArtifactView | null, event: SpindleEvent): ArtifactView | null {
  if (!isArtifactEvent(event)) throw new Error(`unexpected ${event.type} for the artifacts read model`);
  const at = new Date(event.occurredAt);
  switch (event.type) {
    case 'ArtifactStored':
      return Object.assign(new ArtifactView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        ...event.data,
        // A re-upload under the same name (force) keeps the first creation time.
        createdAt: row && !row.deletedAt ? row.createdAt : at,
        updatedAt: at,
        deletedAt: null,
      });
    case 'ArtifactDeleted':
      return row ? { ...row, updatedAt: at, deletedAt: at } : null;
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected artifact event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const artifactsProjection = streamProjection<ArtifactView>({
  name: READ_MODEL_SOURCES.artifacts.consumer,
  topics: [READ_MODEL_SOURCES.artifacts.topic],
  entity: ArtifactView,
  evolve: evolveArtifactView,
});
