import { isClusterConfigEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { ClusterConfigView, READ_MODEL_SOURCES } from '@spindle/read-models';

// Every cluster-config event carries its stream's whole document: the row is the latest one.
export function evolveClusterConfigView(
  _row: ClusterConfigView | null,
  event: SpindleEvent,
): ClusterConfigView | null {
  if (!isClusterConfigEvent(event))
    throw new Error(`unexpected ${event.type} for the cluster-config read model`);
  const row = (document: unknown) =>
    Object.assign(new ClusterConfigView(), {
      streamId: event.streamId,
      streamPosition: event.streamPosition,
      document,
      updatedAt: new Date(event.occurredAt),
    });
  switch (event.type) {
    case 'LogCatalogueReplaced':
      return row(event.data.logs);
    case 'LoggersChanged':
      return row(event.data.loggers);
    case 'EventRulesReplaced':
      return row(event.data.files);
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected cluster-config event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const clusterConfigProjection = streamProjection<ClusterConfigView>({
  name: READ_MODEL_SOURCES.clusterConfig.consumer,
  topics: [READ_MODEL_SOURCES.clusterConfig.topic],
  entity: ClusterConfigView,
  evolve: evolveClusterConfigView,
});
