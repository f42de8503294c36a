import type { QueryResult } from 'pg';
import { DataSource } from 'typeorm';
import { TEST_DATABASE_URL, uniqueName } from '@spindle/testing';
import { PreparingClient, STATEMENTS_PER_CONNECTION, STATEMENT_THRESHOLD } from './prepared-statements';
import { serviceDataSourceOptions } from './service-data-source';

jest.setTimeout(30_000);

// The pool's statement cache on a real Postgres: what a connection has prepared is read from
// the server's own pg_prepared_statements.
describe('PreparingClient', () => {
  let client: PreparingClient;

  beforeEach(async () => {
    client = new PreparingClient({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });
  afterEach(() => client.end());

  async function prepared(): Promise<string[]> {
    const { rows } = (await client.query(
      'select statement from pg_prepared_statements order by prepare_time',
    )) as QueryResult<{ statement: string }>;
    return rows.map((r) => r.statement);
  }

  it('prepares a statement with parameters once it is sent again, then runs it by name', async () => {
    const text = 'select $1::int + $2::int as sum';
    expect((await client.query(text, [1, 2])).rows).toEqual([{ sum: 3 }]);
    expect(STATEMENT_THRESHOLD).toBe(2);
    expect(await prepared()).toEqual([]);
    expect((await client.query(text, [3, 4])).rows).toEqual([{ sum: 7 }]);
    expect(await prepared()).toEqual([text]);
    expect((await client.query(text, [5, 6])).rows).toEqual([{ sum: 11 }]);
    expect(await prepared()).toEqual([text]);
  });

  it('leaves a statement without parameters as it is: a script of several statements still runs', async () => {
    for (let i = 0; i < 3; i++) await client.query('select 1; select 2');
    await client.query({ text: 'select $1::int as n', values: [1] });
    expect(await prepared()).toEqual([]);
  });

  it('answers from the table that replaced the one a prepared statement was planned on', async () => {
    const table = uniqueName('prep').toLowerCase();
    await client.query(`create table ${table} (id int primary key, v text)`);
    try {
      await client.query(`insert into ${table} values (1, 'old')`);
      const read = `select v from ${table} where id = $1`;
      for (let i = 0; i < 3; i++) await client.query(read, [1]);
      expect(await prepared()).toEqual([read]);
      // As a read model's rebuild does: a new table, then drop the live one and rename.
      await client.query(`create table ${table}_next (like ${table} including all)`);
      await client.query(`insert into ${table}_next values (1, 'new')`);
      await client.query(`begin; drop table ${table}; alter table ${table}_next rename to ${table}; commit`);
      expect((await client.query(read, [1])).rows).toEqual([{ v: 'new' }]);
    } finally {
      await client.query(`drop table if exists ${table}; drop table if exists ${table}_next`);
    }
  });

  it('stops naming new statements at its limit, and still runs them', async () => {
    for (let i = 0; i < STATEMENTS_PER_CONNECTION + 5; i++) {
      for (let use = 0; use < STATEMENT_THRESHOLD; use++) {
        expect((await client.query(`select $1::int + ${i} as n`, [use])).rows).toEqual([{ n: use + i }]);
      }
    }
    expect(await prepared()).toHaveLength(STATEMENTS_PER_CONNECTION);
  });

  it('keeps a connection usable after a statement it named fails to parse, and holds nothing prepared for it', async () => {
    const bad = 'select $1::int from no_such_table_anywhere';
    for (let use = 0; use < 3; use++) await expect(client.query(bad, [1])).rejects.toThrow(/does not exist/);
    expect((await client.query('select $1::text as t', ['still here'])).rows).toEqual([{ t: 'still here' }]);
    expect(await prepared()).toEqual([]);
  });

  it('is what a service data source connects with, and TypeORM answers as before', async () => {
    const schema = uniqueName('prep').toLowerCase();
    const dataSource = new DataSource(
      serviceDataSourceOptions({
        name: schema,
        schema,
        url: TEST_DATABASE_URL,
        entities: [],
        migrations: [],
      }),
    );
    await dataSource.initialize();
    try {
      await dataSource.query(`create schema ${schema}`);
      await dataSource.query(`create table ${schema}.t (id int primary key, n int)`);
      await dataSource.query(`insert into ${schema}.t values (1, 0), (2, 0)`);
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      try {
        for (let i = 1; i <= 3; i++) {
          // An update through TypeORM still answers [rows, affected].
          expect(
            await runner.query(`update ${schema}.t set n = $1 where id = any($2::int[]) returning id`, [
              i,
              [1, 2],
            ]),
          ).toEqual([[{ id: 1 }, { id: 2 }], 2]);
        }
        const ownStatements = await runner.query(
          `select count(*)::int as n from pg_prepared_statements where name like 'spindle_%' and statement like $1`,
          [`update ${schema}.t%`],
        );
        expect(ownStatements).toEqual([{ n: 1 }]);
      } finally {
        await runner.release();
      }
    } finally {
      await dataSource.query(`drop schema if exists ${schema} cascade`);
      await dataSource.destroy();
    }
  });

  it('is left out when a data source is told so', () => {
    const options = serviceDataSourceOptions({
      name: 'x',
      schema: 'x',
      url: TEST_DATABASE_URL,
      entities: [],
      migrations: [],
      preparedStatements: false,
    });
    expect((options as { extra: Record<string, unknown> }).extra['Client']).toBeUndefined();
  });
});
