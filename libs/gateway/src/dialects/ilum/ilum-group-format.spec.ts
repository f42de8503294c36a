import type { IlumError } from './ilum-errors.filter';
import { enumParam, formatPairs, listParam, parseList, parsePairs } from './ilum-group-format';

function refusal(run: () => unknown): IlumError {
  try {
    run();
  } catch (e) {
    return e as IlumError;
  }
  throw new Error('accepted');
}

describe("Ilum's group formats", () => {
  it('reads key=value;key2=value2 maps, a value keeping its own "="', () => {
    expect(parsePairs('tags', 'team=data; env=prod;')).toEqual({ team: 'data', env: 'prod' });
    expect(parsePairs('jobConfig', 'spark.opts=-Da=b')).toEqual({ 'spark.opts': '-Da=b' });
    expect(parsePairs('tags', undefined)).toEqual({});
    expect(formatPairs({ team: 'data', env: 'prod' })).toBe('team=data;env=prod');
  });

  it('refuses a pair without a key with 409, naming the field', () => {
    for (const text of ['team', '=x', 'a=1;b']) {
      const e = refusal(() => parsePairs('tags', text));
      expect(e.status).toBe(409);
      expect(e.message).toContain('tags must be key=value pairs');
    }
  });

  it('reads lists and repeatable parameters as Spring does', () => {
    expect(parseList('pandas==2.0.0; numpy;;')).toEqual(['pandas==2.0.0', 'numpy']);
    expect(listParam({ clusterNames: ['a', 'b,c'], 'clusterNames[]': 'd' }, 'clusterNames')).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    expect(listParam({}, 'clusterNames')).toEqual([]);
  });

  it('checks enum parameters, naming the parameter and the values it takes', () => {
    expect(enumParam({ groupStates: 'ACTIVE,ARCHIVED' }, 'groupStates', ['ACTIVE', 'ARCHIVED'])).toEqual([
      'ACTIVE',
      'ARCHIVED',
    ]);
    const e = refusal(() => enumParam({ groupStates: 'GONE' }, 'groupStates', ['ACTIVE', 'ARCHIVED']));
    expect(e.status).toBe(409);
    expect(e.message).toBe('groupStates must be among ACTIVE, ARCHIVED (got "GONE")');
  });
});
