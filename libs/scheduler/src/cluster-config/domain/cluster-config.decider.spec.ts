import { decideClusterConfig } from './cluster-config.decider';
import type { ClusterConfigCommand } from './cluster-config.decider';

const meta = { correlationId: 'c-1', issuedAt: '2026-12-01T10:00:00.000Z' };
const levels = (
  allocId: string | null,
  loggerId: string,
  set: Record<string, string>,
): ClusterConfigCommand =>
  ({ kind: 'set-logger-levels', ...meta, allocId, loggerId, levels: set }) as ClusterConfigCommand;
const logs = [{ id: 'a', group: 'g', job: 'web', task: 'server', fileName: 'stdout', logLevel: true }];
const catalogue: ClusterConfigCommand = { kind: 'replace-log-catalogue', ...meta, logs };

describe('the cluster-config decider', () => {
  it('replaces the log catalogue whole, and records nothing for the same catalogue', () => {
    expect(decideClusterConfig(catalogue, { document: null })).toEqual([
      { type: 'LogCatalogueReplaced', version: 1, data: { logs } },
    ]);
    expect(decideClusterConfig(catalogue, { document: logs })).toEqual([]);
    expect(decideClusterConfig({ ...catalogue, logs: [] }, { document: logs })).toEqual([
      { type: 'LogCatalogueReplaced', version: 1, data: { logs: [] } },
    ]);
  });

  it('merges a logger default into the whole loggers document', () => {
    const state = { document: { defaults: { web: { leaf: 'info' } }, allocs: {} } };
    expect(decideClusterConfig(levels(null, 'web', { root: 'error' }), state)).toEqual([
      {
        type: 'LoggersChanged',
        version: 1,
        data: { loggers: { defaults: { web: { leaf: 'info', root: 'error' } }, allocs: {} } },
      },
    ]);
  });

  it('keeps an allocation override beside the defaults, and an empty level removes it', () => {
    const set = decideClusterConfig(levels('a-1', 'web', { leaf: 'debug' }), { document: null });
    expect(set).toEqual([
      {
        type: 'LoggersChanged',
        version: 1,
        data: { loggers: { defaults: {}, allocs: { 'a-1': { web: { leaf: 'debug' } } } } },
      },
    ]);
    const state = { document: { defaults: {}, allocs: { 'a-1': { web: { leaf: 'debug' } } } } };
    expect(decideClusterConfig(levels('a-1', 'web', { leaf: '' }), state)).toEqual([
      { type: 'LoggersChanged', version: 1, data: { loggers: { defaults: {}, allocs: {} } } },
    ]);
  });

  it('records nothing when the levels are already set', () => {
    const state = { document: { defaults: { web: { leaf: 'info' } }, allocs: {} } };
    expect(decideClusterConfig(levels(null, 'web', { leaf: 'info' }), state)).toEqual([]);
  });
});
