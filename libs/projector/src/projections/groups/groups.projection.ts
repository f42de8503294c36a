import { isGroupEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { streamProjection } from '@spindle/backbone';
import { READ_MODEL_SOURCES, GroupView } from '@spindle/read-models';

export function evolveGroupView(row: GroupView | null, event: SpindleEvent): GroupView | null {
  if (!isGroupEvent(event)) throw new Error(`unexpected ${event.type} for the groups read model`);
  const at = new Date(event.occurredAt);
  switch (event.type) {
    case 'GroupCreated': {
      const { definition } = event.data;
      return Object.assign(new GroupView(), {
        streamId: event.streamId,
        streamPosition: event.streamPosition,
        id: event.data.id,
        name: event.data.name,
        clusterName: definition.clusterName,
        description: definition.description,
        kind: definition.kind,
        language: definition.language,
        tags: definition.tags,
        scale: event.data.scale,
        state: 'ACTIVE',
        definition,
        createdAt: at,
        archivedAt: null,
        deletedAt: null,
      });
    }
    case 'GroupRescaled':
      return row ? { ...row, scale: event.data.scale } : null;
    case 'GroupStopped':
      return row ? { ...row, state: 'ARCHIVED', archivedAt: at } : null;
    case 'GroupDeleted':
      return row ? { ...row, deletedAt: at } : null;
    default: {
      const unknownEvent: never = event;
      throw new Error(`unexpected group event ${JSON.stringify(unknownEvent)}`);
    }
  }
}

export const groupsProjection = streamProjection<GroupView>({
  name: READ_MODEL_SOURCES.groups.consumer,
  topics: [READ_MODEL_SOURCES.groups.topic],
  entity: GroupView,
  evolve: evolveGroupView,
});
