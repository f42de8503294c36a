import { effectiveLoggers, logCatalogueSchema } from './cluster-config';

describe('cluster config documents', () => {
  it('gives an allocation the defaults with its own levels on top, name by name', () => {
    const loggers = {
      defaults: { web: { http: 'info', db: 'warning' }, jobs: { queue: 'error' } },
      allocs: { 'a-1': { web: { http: 'debug' }, extra: { x: 'panic' } } },
    } as const;
    expect(effectiveLoggers(loggers, 'a-1')).toEqual({
      extra: { x: 'panic' },
      jobs: { queue: 'error' },
      web: { http: 'debug', db: 'warning' },
    });
    expect(effectiveLoggers(loggers, 'a-2')).toEqual(loggers.defaults);
  });

  it('refuses a catalogue that names one log twice', () => {
    const log = { id: 'web', group: 'g', job: 'j', task: 't', fileName: 'stdout', logLevel: true };
    expect(logCatalogueSchema.safeParse([log, log]).success).toBe(false);
    expect(logCatalogueSchema.safeParse([log, { ...log, id: 'ws' }]).success).toBe(true);
  });
});
