import { Client } from 'pg';

// Where a value must never appear: what Spindle prints and what it stores. The leak checks of the
// secrets and cluster suites search both for a marker value.

// Everything written to stdout and stderr while it runs (Spindle's log lines, in-process).
export function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab = (chunk: unknown): boolean => {
    chunks.push(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    return true;
  };
  process.stdout.write = grab;
  process.stderr.write = grab;
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

// Every table of every schema of the database (`schema.table`), and those whose rows hold `marker`
// as text (literally: `strpos`, not LIKE, whose `_` and `%` would match other text). The caller checks the tables it expects are among them, so the search cannot pass by
// looking nowhere.
export async function tablesHolding(
  databaseUrl: string,
  marker: string,
): Promise<{ searched: string[]; hits: string[] }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = (
      await client.query<{ schema: string; name: string }>(
        `select table_schema as schema, table_name as name from information_schema.tables
         where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
      )
    ).rows;
    const hits: string[] = [];
    for (const t of tables) {
      const found = await client.query<{ n: number }>(
        `select count(*)::int as n from "${t.schema}"."${t.name}" t where strpos(t::text, $1) > 0`,
        [marker],
      );
      if (found.rows[0]!.n > 0) hits.push(`${t.schema}.${t.name}`);
    }
    return { searched: tables.map((t) => `${t.schema}.${t.name}`), hits };
  } finally {
    await client.end();
  }
}
