import { newEventId, parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { evolveClusterView } from './clusters.projection';

function event(type: string, position: number, data: object, at: string): SpindleEvent {
  return parseEvent({
    id: newEventId(),
    type,
    version: 1,
    streamId: 'cluster-prod',
    streamPosition: position,
    occurredAt: at,
    correlationId: 'c',
    causationId: null,
    data,
  });
}

const definition = {
  description: 'prod',
  sparkStorage: null,
  defaultApplicationConfig: null,
  settings: { url: 'https://k8s:6443' },
  storages: {},
};

describe('clusters read model', () => {
  const created = event(
    'ClusterCreated',
    1,
    {
      id: 'id-1',
      name: 'prod',
      type: 'k8s',
      definition,
      secretId: 'cluster-id-1',
      secretFields: ['password'],
    },
    '2026-12-03T10:00:00.000Z',
  );

  it('creates a row holding the secret reference, not a value', () => {
    expect(evolveClusterView(null, created)).toMatchObject({
      id: 'id-1',
      name: 'prod',
      type: 'k8s',
      definition,
      secretId: 'cluster-id-1',
      secretFields: ['password'],
      createdAt: new Date('2026-12-03T10:00:00.000Z'),
      deletedAt: null,
    });
  });

  it('keeps a tombstone on ClusterDeleted', () => {
    const row = evolveClusterView(null, created)!;
    const gone = evolveClusterView(
      row,
      event('ClusterDeleted', 2, { id: 'id-1', name: 'prod' }, '2026-12-03T11:00:00.000Z'),
    );
    expect(gone).toMatchObject({ id: 'id-1', deletedAt: new Date('2026-12-03T11:00:00.000Z') });
  });

  it('ignores a delete of a row it never saw', () => {
    expect(
      evolveClusterView(
        null,
        event('ClusterDeleted', 2, { id: 'id-1', name: 'prod' }, '2026-12-03T11:00:00.000Z'),
      ),
    ).toBeNull();
  });
});
