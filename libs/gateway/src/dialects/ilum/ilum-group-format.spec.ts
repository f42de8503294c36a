import { parseList } from './ilum-group-format';
import { listParam, pairsParam } from './ilum-query';
import type { IlumError } from './ilum-errors.filter';

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
    expect(pairsParam('tags', 'team=data; env=prod;')).toEqual({ team: 'data', env: 'prod' });
    expect(pairsParam('jobConfig', 'spark.opts=-Da=b')).toEqual({ 'spark.opts': '-Da=b' });
    expect(pairsParam('tags', undefined)).toEqual({});
  });

  it('refuses a pair without a key with 409, naming the field and not the value', () => {
    for (const text of ['team', '=x', 'a=1;b']) {
      const e = refusal(() => pairsParam('tags', text));
      expect(e.status).toBe(409);
      expect(e.message).toContain('tags must be key=value pairs');
      expect(e.message).not.toContain(text);
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
  });

  it('checks enum parameters, naming the parameter and the values it takes', () => {
    expect(listParam({ groupStates: 'ACTIVE,ARCHIVED' }, 'groupStates', ['ACTIVE', 'ARCHIVED'])).toEqual([
      'ACTIVE',
      'ARCHIVED',
    ]);
    const e = refusal(() => listParam({ groupStates: 'GONE' }, 'groupStates', ['ACTIVE', 'ARCHIVED']));
    expect(e.status).toBe(409);
    expect(e.message).toBe('groupStates must be among ACTIVE, ARCHIVED');
  });
});
