import type { NewEvent, SpindleEvent } from '@spindle/contracts';
import { clusterDecider } from './cluster.decider';
import type { ClusterCommand } from './cluster.decider';

// Given(events) / When(command) / Then(events or error), with no I/O and no clock.
const meta = { correlationId: 'c-1', issuedAt: '2026-12-03T10:00:00.000Z' };
const definition = {
  description: '',
  sparkStorage: null,
  defaultApplicationConfig: null,
  settings: { url: 'https://k8s:6443' },
  storages: {},
};
const create = {
  kind: 'create' as const,
  ...meta,
  id: 'id-1',
  name: 'prod',
  type: 'k8s' as const,
  definition,
  secretId: 'cluster-id-1',
  secretFields: ['password'],
};

function given(...events: NewEvent[]): SpindleEvent[] {
  return events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'cluster-prod',
    streamPosition: i + 1,
    occurredAt: meta.issuedAt,
    correlationId: 'c-0',
    causationId: null,
  }));
}

function when(history: SpindleEvent[], command: ClusterCommand) {
  const state = history.reduce(clusterDecider.evolve, clusterDecider.initialState);
  return clusterDecider.decide(command, state);
}

const created: NewEvent = {
  type: 'ClusterCreated',
  version: 1,
  data: {
    id: 'id-1',
    name: 'prod',
    type: 'k8s',
    definition,
    secretId: 'cluster-id-1',
    secretFields: ['password'],
  },
};
const deleted: NewEvent = { type: 'ClusterDeleted', version: 1, data: { id: 'id-1', name: 'prod' } };

describe('cluster decisions', () => {
  it('creates a cluster whose name is free, recording the secret reference only', () => {
    expect(when(given(), create)).toEqual([created]);
  });

  it('refuses a second cluster with the same name', () => {
    expect(when(given(created), { ...create, id: 'id-2' })).toMatchObject({
      code: 'conflict',
      field: 'name',
    });
  });

  it('creates a cluster again after its name was freed', () => {
    const again = when(given(created, deleted), { ...create, id: 'id-2' });
    expect(again).toEqual([{ ...created, data: { ...created.data, id: 'id-2' } }]);
  });

  it('deletes an existing cluster, naming its id', () => {
    expect(when(given(created), { kind: 'delete', ...meta, name: 'prod' })).toEqual([deleted]);
  });

  it('refuses to delete a cluster that does not exist or is gone', () => {
    expect(when(given(), { kind: 'delete', ...meta, name: 'prod' })).toMatchObject({ code: 'not_found' });
    expect(when(given(created, deleted), { kind: 'delete', ...meta, name: 'prod' })).toMatchObject({
      code: 'not_found',
    });
  });

  it('never deletes the default cluster', () => {
    expect(when(given(), { kind: 'delete', ...meta, name: 'default' })).toMatchObject({ code: 'forbidden' });
  });
});
