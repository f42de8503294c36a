import type { QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import { TEST_DATABASE_URL, createTestSchema, eventually } from '@spindle/testing';
import { GROWN_MIN_ROWS, GrowingTableAnalyzer } from './growing-tables';
import { PreparingClient } from './prepared-statements';

jest.setTimeout(60_000);

// On a real Postgres: the plan a connection keeps for a prepared look-up, before and after the
// table it reads grew and was analyzed.
describe('GrowingTableAnalyzer', () => {
  let schema: string;
  let dataSource: DataSource;
  let testSchema: Awaited<ReturnType<typeof createTestSchema>>;
  let analyzer: GrowingTableAnalyzer;
  let client: PreparingClient;

  beforeAll(async () => {
    testSchema = await createTestSchema('grow', { migrations: () => [] });
    ({ schema, dataSource } = testSchema);
    // Its looks are called directly here: when they run is growing-tables.spec.ts's concern.
    analyzer = new GrowingTableAnalyzer(dataSource, schema, () => 0);
    client = new PreparingClient({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    await testSchema.drop();
  });

  // The plan the connection runs its prepared statement `text` with, for these values.
  async function planOf(text: string, values: string): Promise<string> {
    const { rows } = (await client.query('select name from pg_prepared_statements where statement = $1', [
      text,
    ])) as QueryResult<{ name: string }>;
    const explained = (await client.query(
      `explain (costs off) execute ${rows[0]!.name}('${values}')`,
    )) as QueryResult<Record<string, string>>;
    return explained.rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  // Waits until the statistics views count the table's rows (a backend reports its changes when
  // idle, within seconds; asked to, at once).
  async function counted(table: string, rows: number): Promise<void> {
    await dataSource.query('select pg_stat_force_next_flush()');
    await eventually(
      async () => {
        const [row] = await dataSource.query<{ n: number }[]>(
          'select n_live_tup::int as n from pg_stat_user_tables where schemaname = $1 and relname = $2',
          [schema, table],
        );
        return row && row.n >= rows ? true : undefined;
      },
      15_000,
      `${rows} rows of ${table} counted`,
    );
  }

  it('makes the connections plan again a look-up they planned as a scan of a then tiny table', async () => {
    const table = `${schema}.streams`;
    // Autovacuum left out: its own analyze, at any moment, would change what the test sees.
    await client.query(
      `create table ${table} (stream_id text primary key, position int not null) with (autovacuum_enabled = false)`,
    );
    // As autovacuum does in a young database: the table analyzed while it held a few rows.
    await client.query(
      `insert into ${table} select 'job-' || i, 1 from generate_series(1, 10) i; analyze ${table}`,
    );
    const lookup = `select stream_id, position from ${table} where stream_id = any($1::text[])`;
    for (let i = 0; i < 10; i++) await client.query(lookup, [['job-1', `job-${i}`]]);
    expect(await planOf(lookup, '{job-1,job-2}')).toMatch(/^Seq Scan/);

    await client.query(`insert into ${table} select 'job-x' || i, 1 from generate_series(1, 20000) i`);
    await client.query('select pg_stat_force_next_flush()');
    // Grown two thousand times over, the table is still scanned whole for two rows.
    expect(await planOf(lookup, '{job-1,job-2}')).toMatch(/^Seq Scan/);

    await counted('streams', 20_010);
    expect(await analyzer.analyzeGrown()).toEqual(['streams']);
    expect(await planOf(lookup, '{job-1,job-2}')).toMatch(/Index Scan|Index Cond/);
    expect((await client.query(lookup, [['job-1', 'job-x7']])).rows).toHaveLength(2);

    // Analyzed as it is now, it is not grown any more.
    expect(await analyzer.analyzeGrown()).toEqual([]);
  });

  it('leaves a table alone while it is small, however much it grew', async () => {
    const table = `${schema}.small`;
    await dataSource.query(`create table ${table} (id int primary key) with (autovacuum_enabled = false)`);
    await dataSource.query(`insert into ${table} select generate_series(1, 10); analyze ${table}`);
    await dataSource.query(`insert into ${table} select generate_series(11, ${GROWN_MIN_ROWS - 1})`);
    await counted('small', GROWN_MIN_ROWS - 1);
    expect(await analyzer.analyzeGrown()).toEqual([]);
    // One row more and it is grown.
    await dataSource.query(`insert into ${table} values (${GROWN_MIN_ROWS})`);
    await counted('small', GROWN_MIN_ROWS);
    expect(await analyzer.analyzeGrown()).toEqual(['small']);
  });
});
