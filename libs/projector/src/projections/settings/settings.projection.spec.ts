import { foldIntoRows } from '@spindle/backbone';
import { DEFAULT_INSTALLATION_SETTINGS, newEventId, parseEvent } from '@spindle/contracts';
import type { InstallationSettings, SpindleEvent } from '@spindle/contracts';
import type { SettingsView } from '@spindle/read-models';
import { settingsProjection } from './settings.projection';

function changed(position: number, maxPageLines: number): SpindleEvent {
  const settings: InstallationSettings = { ...DEFAULT_INSTALLATION_SETTINGS, logs: { maxPageLines } };
  return parseEvent({
    id: newEventId(),
    type: 'SettingsChanged',
    version: 1,
    streamId: 'settings',
    streamPosition: position,
    occurredAt: `2026-12-01T10:00:0${position}.000Z`,
    correlationId: 'c',
    causationId: null,
    data: { settings },
  });
}

describe('settings read model', () => {
  const fold = (rows: Map<string, SettingsView | null>, events: SpindleEvent[]) =>
    foldIntoRows(settingsProjection.definition, rows, events);

  it('keeps the latest document, with its position and time', () => {
    const rows = new Map<string, SettingsView | null>();
    expect([...fold(rows, [changed(1, 10), changed(2, 20)])]).toEqual(['settings']);
    expect(rows.get('settings')).toMatchObject({
      streamPosition: 2,
      settings: { logs: { maxPageLines: 20 } },
      updatedAt: new Date('2026-12-01T10:00:02.000Z'),
    });
  });

  it('changes nothing when an event is delivered again or late', () => {
    const rows = new Map<string, SettingsView | null>();
    const second = changed(2, 20);
    fold(rows, [changed(1, 10), second]);
    expect(fold(rows, [second, changed(1, 10)]).size).toBe(0);
    expect(rows.get('settings')?.settings.logs.maxPageLines).toBe(20);
  });
});
