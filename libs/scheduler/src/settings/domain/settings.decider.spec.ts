import { DEFAULT_INSTALLATION_SETTINGS } from '@spindle/contracts';
import { decideSettings } from './settings.decider';
import type { SettingsCommand } from './settings.decider';

const change = (startTimeoutMs: number | null): SettingsCommand => ({
  kind: 'change',
  correlationId: 'c-1',
  issuedAt: '2026-12-01T10:00:00.000Z',
  settings: { ...DEFAULT_INSTALLATION_SETTINGS, jobs: { startTimeoutMs, performTimeoutMs: null } },
});

describe('the settings decider', () => {
  it('records a changed document whole', () => {
    expect(decideSettings(change(30_000), { settings: null })).toEqual([
      { type: 'SettingsChanged', version: 1, data: { settings: change(30_000).settings } },
    ]);
  });

  it('records nothing when the document is the one in force', () => {
    expect(decideSettings(change(30_000), { settings: change(30_000).settings })).toEqual([]);
  });

  it('records the defaults written out the first time, so the stream says what is in force', () => {
    expect(decideSettings(change(null), { settings: null })).toHaveLength(1);
  });
});
