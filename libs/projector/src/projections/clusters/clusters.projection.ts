import { isClusterEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { READ_MODEL_SOURCES, ClusterView } from '@spindle/read-models';

export function evolveClusterView(row: ClusterView | null, event: SpindleEvent): ClusterView | null {
  if (!isClusterEvent(event)) throw new Error(`unexpected ${event.type} for the clusters read model`);
  const at = new Date(event.occurredAt);
  switch (event.type) {
    case 'ClusterCreated':
      return Object.assign(new ClusterView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        id: event.data.id,
        name: event.data.name,
        type: event.data.type,
        definition: event.data.definition,
        secretId: event.data.secretId,
        secretFields: event.data.secretFields,
        createdAt: at,
        deletedAt: null,
      });
    case 'ClusterDeleted':
      return row ? { ...row, deletedAt: at } : null;
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected cluster event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const clustersProjection = streamProjection<ClusterView>({
  name: READ_MODEL_SOURCES.clusters.consumer,
  topics: [READ_MODEL_SOURCES.clusters.topic],
  entity: ClusterView,
  evolve: evolveClusterView,
});
