import { newEventId, parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { evolveGroupView } from './groups.projection';

function event(type: string, position: number, data: object, at: string): SpindleEvent {
  return parseEvent({
    id: newEventId(),
    type,
    version: 1,
    streamId: 'group-analytics',
    streamPosition: position,
    occurredAt: at,
    correlationId: 'c',
    causationId: null,
    data,
  });
}

const definition = {
  clusterName: 'default',
  description: 'warm workers',
  kind: 'CODE',
  language: 'PYTHON',
  tags: { team: 'data' },
  jobConfig: { 'spark.a': '1' },
  jars: [],
  files: [],
  pyFiles: [],
  pyRequirements: [],
};
const ids = { id: 'g1', name: 'analytics' };

describe('groups read model', () => {
  const created = event('GroupCreated', 1, { ...ids, scale: 2, definition }, '2026-12-03T10:00:00.000Z');

  it('creates an ACTIVE row with its filters as columns', () => {
    expect(evolveGroupView(null, created)).toMatchObject({
      id: 'g1',
      name: 'analytics',
      clusterName: 'default',
      kind: 'CODE',
      language: 'PYTHON',
      tags: { team: 'data' },
      scale: 2,
      state: 'ACTIVE',
      definition,
      createdAt: new Date('2026-12-03T10:00:00.000Z'),
      archivedAt: null,
      deletedAt: null,
    });
  });

  it('follows a rescale, archives on stop with the time, keeps a tombstone on delete', () => {
    let row = evolveGroupView(null, created)!;
    row = evolveGroupView(row, event('GroupRescaled', 2, { ...ids, scale: 3 }, '2026-12-03T10:01:00.000Z'))!;
    expect(row.scale).toBe(3);
    row = evolveGroupView(row, event('GroupStopped', 3, ids, '2026-12-03T10:02:00.000Z'))!;
    expect(row).toMatchObject({ state: 'ARCHIVED', archivedAt: new Date('2026-12-03T10:02:00.000Z') });
    row = evolveGroupView(row, event('GroupDeleted', 4, ids, '2026-12-03T10:03:00.000Z'))!;
    expect(row).toMatchObject({ state: 'ARCHIVED', deletedAt: new Date('2026-12-03T10:03:00.000Z') });
  });

  it('ignores changes to a row it never saw', () => {
    expect(evolveGroupView(null, event('GroupStopped', 2, ids, '2026-12-03T10:02:00.000Z'))).toBeNull();
  });
});
