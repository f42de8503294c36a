import { EventTopics } from '@spindle/contracts';
import type { ArtifactEvent, EventEnvelope } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { ArtifactView } from '@spindle/read-models';

export function evolveArtifactView(row: ArtifactView | null, envelope: EventEnvelope): ArtifactView | null {
  const event = envelope as ArtifactEvent;
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
  name: 'projector.artifacts.v1',
  topics: [EventTopics.artifact],
  entity: ArtifactView,
  evolve: evolveArtifactView,
});
