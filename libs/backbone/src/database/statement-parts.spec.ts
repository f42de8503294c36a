import { ridingCtes, statementOf } from './statement-parts';
import type { StatementParts } from './statement-parts';

describe('statement parts', () => {
  const upsert: StatementParts = {
    with: ['rows as (select * from unnest($1::text[], $2::int[]) as r(id, n))'],
    statement: 'insert into t select * from rows where n > $3',
    params: [['a'], [1], 0],
  };

  it('run on their own as one statement', () => {
    expect(statementOf(upsert)).toBe(
      'with rows as (select * from unnest($1::text[], $2::int[]) as r(id, n))\ninsert into t select * from rows where n > $3',
    );
    expect(statementOf({ with: [], statement: 'delete from t', params: [] })).toBe('delete from t');
  });

  it('ride after another statement’s parameters, each numbered after the riders before it', () => {
    const feed: StatementParts = {
      with: [],
      statement: 'insert into f select * from jsonb_to_recordset($1::jsonb)',
      params: ['[]'],
    };
    const riding = ridingCtes([upsert, feed], 8);
    expect(riding.ctes).toBe(
      [
        'rows as (select * from unnest($9::text[], $10::int[]) as r(id, n))',
        'riding_0 as (insert into t select * from rows where n > $11)',
        'riding_1 as (insert into f select * from jsonb_to_recordset($12::jsonb))',
      ].join(',\n'),
    );
    expect(riding.params).toEqual([['a'], [1], 0, '[]']);
    expect(ridingCtes([], 8)).toEqual({ ctes: '', params: [] });
  });

  it('refuses two riders that name a CTE alike', () => {
    expect(() => ridingCtes([upsert, upsert], 0)).toThrow(/two riding statements name a CTE rows/);
  });
});
