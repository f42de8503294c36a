import { parseGroupRequest, parseScale } from './group-request';

describe('a group request', () => {
  it("takes Ilum's defaults for what it leaves out", () => {
    expect(parseGroupRequest({ name: 'analytics' })).toEqual({
      ok: true,
      request: {
        name: 'analytics',
        scale: 1,
        definition: {
          clusterName: 'default',
          description: '',
          kind: 'JOB',
          language: 'SCALA',
          tags: {},
          jobConfig: {},
          jars: [],
          files: [],
          pyFiles: [],
          pyRequirements: [],
        },
      },
    });
  });

  it('refuses what breaks a rule, naming the field and the rule', () => {
    const refused = parseGroupRequest({
      name: '../x',
      kind: 'SHELL',
      language: 'RUBY',
      scale: 0,
      pyFiles: ['../../etc/passwd'],
    });
    expect(refused.ok).toBe(false);
    const errors = refused.ok ? [] : refused.errors;
    expect(errors.map((e) => e.field).sort()).toEqual(['kind', 'language', 'name', 'pyFiles.0', 'scale']);
    expect(errors.find((e) => e.field === 'kind')?.message).toBe('kind must be one of JOB, CODE');
    expect(errors.find((e) => e.field === 'scale')?.message).toBe(
      'scale must be a whole number from 1 to 64',
    );
    expect(parseGroupRequest({}).ok).toBe(false);
  });

  it('reads a scale given as text', () => {
    expect(parseScale('3')).toBe(3);
    expect(parseScale(64)).toBe(64);
    for (const raw of ['0', '65', '-1', '1.5', 'two', '', 2.5, null, undefined])
      expect(parseScale(raw)).toMatchObject({ field: 'scale', rule: 'range' });
  });
});
