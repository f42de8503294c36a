import {
  DEFAULT_INSTALLATION_SETTINGS,
  installationSettingsSchema,
  settingsInputSchema,
  settingsJsonSchema,
} from './installation-settings';

describe('the installation settings', () => {
  it('fills every missing value with its default', () => {
    expect(settingsInputSchema.parse({ jobs: { startTimeoutMs: 1000 } })).toEqual({
      jobs: { startTimeoutMs: 1000, performTimeoutMs: null },
      logs: { maxPageLines: 25_000 },
    });
    expect(settingsInputSchema.parse({})).toEqual(DEFAULT_INSTALLATION_SETTINGS);
  });

  it('refuses a bad value or an unknown path from a client, naming where', () => {
    const result = settingsInputSchema.safeParse({ jobs: { startTimeoutMs: -1 }, logs: { nope: 1 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.code])).toEqual([
      ['jobs.startTimeoutMs', 'too_small'],
      ['logs', 'unrecognized_keys'],
    ]);
  });

  it('reads an event with a setting it does not know yet', () => {
    expect(installationSettingsSchema.parse({ later: true })).toEqual(DEFAULT_INSTALLATION_SETTINGS);
  });

  it('publishes a JSON Schema generated from the zod one, with defaults and no extra keys', () => {
    const schema = settingsJsonSchema() as any;
    expect(schema.$schema).toContain('json-schema.org');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.jobs.properties.startTimeoutMs.default).toBeNull();
    expect(schema.properties.logs.properties.maxPageLines).toMatchObject({
      default: 25_000,
      maximum: 25_000,
    });
    expect(schema.required ?? []).toEqual([]);
  });
});
