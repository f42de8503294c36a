import { DEFAULT_CONTEXT_SETTINGS, newEventId, parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { evolveContextView } from './contexts.projection';

function event(type: string, position: number, data: object, at: string): SpindleEvent {
  return parseEvent({
    id: newEventId(),
    type,
    version: 1,
    streamId: 'context-etl',
    streamPosition: position,
    occurredAt: at,
    correlationId: 'c',
    causationId: null,
    data,
  });
}

describe('contexts read model', () => {
  const created = event(
    'ContextCreated',
    1,
    { name: 'etl', settings: DEFAULT_CONTEXT_SETTINGS },
    '2026-11-22T10:00:00.000Z',
  );

  it('creates a row from ContextCreated', () => {
    expect(evolveContextView(null, created)).toMatchObject({
      name: 'etl',
      settings: DEFAULT_CONTEXT_SETTINGS,
      createdAt: new Date('2026-11-22T10:00:00.000Z'),
      deletedAt: null,
    });
  });

  it('keeps createdAt and moves updatedAt on a settings change', () => {
    const row = evolveContextView(null, created)!;
    const changed = evolveContextView(
      row,
      event(
        'ContextSettingsChanged',
        2,
        { name: 'etl', settings: { ...DEFAULT_CONTEXT_SETTINGS, maxJobs: 9 } },
        '2026-11-22T11:00:00.000Z',
      ),
    )!;
    expect(changed.settings.maxJobs).toBe(9);
    expect(changed.createdAt).toEqual(row.createdAt);
    expect(changed.updatedAt).toEqual(new Date('2026-11-22T11:00:00.000Z'));
  });

  it('leaves a tombstone on delete', () => {
    const row = evolveContextView(null, created)!;
    const gone = evolveContextView(
      row,
      event('ContextDeleted', 2, { name: 'etl' }, '2026-11-22T12:00:00.000Z'),
    )!;
    expect(gone.deletedAt).toEqual(new Date('2026-11-22T12:00:00.000Z'));
  });

  it('ignores a change for a row it never saw', () => {
    expect(
      evolveContextView(null, event('ContextDeleted', 2, { name: 'etl' }, '2026-11-22T12:00:00.000Z')),
    ).toBeNull();
  });
});
