import { Client } from 'pg';
import { MIST_MAX_OFFSET } from '@spindle/gateway';
import type { BenchEnv } from '../lib/bench-env';
import { runLoad } from '../lib/load-generator';
import type { FigureReport, Row } from '../lib/report';
import { SpindleApi } from '../lib/spindle-api';
import { startSpindle } from '../lib/spindle-server';
import { nowMs, round, summarize } from '../lib/stats';
import type { LatencySummary } from '../lib/stats';
import { PROGRAMS } from '../fixtures/programs';

// Figure 5: a page of the job list at depth, with the read model holding `listJobs` jobs. The
// jobs are written straight into the read-model table (a fixture: making a million jobs through
// the API would take longer than the whole bench), then every page is read through the HTTP API:
// native keyset pages walked to each depth with their cursors, Mist's offset pages, and Mist's
// `paginate=true`, whose total is a real count. Beside them, the same queries as raw SQL.
export async function listFigure(env: BenchEnv): Promise<FigureReport> {
  const n = env.sizes.listJobs;
  const samples = env.sizes.listSamples;
  const depths = [0, Math.round(n / 2), n - 1_000];
  const spindle = await startSpindle(env, 'list', { WORKER_SLOTS: '0' });
  const rows: Row[] = [];
  const notes: string[] = [];
  let worstKeysetP95 = 0;
  try {
    const api = new SpindleApi(spindle.url);
    await api.upload('stamp.js', PROGRAMS['stamp.js']);
    await api.createFunction({ name: 'stamp', artifact: 'stamp.js', entrypoint: 'stamp', runtime: 'node' });
    const sql = new Client({ connectionString: spindle.databaseUrl });
    await sql.connect();
    try {
      const seeded = nowMs();
      await seedJobs(sql, n);
      notes.push(
        `${n.toLocaleString('en-US')} jobs seeded into projector.jobs_v1 in ${round((nowMs() - seeded) / 1000)} s.`,
      );
      const cursors = await cursorsAt(api, '/api/v1/jobs?limit=500', depths);
      const failedCursors = await cursorsAt(api, '/api/v1/jobs?limit=500&state=failed', [
        0,
        Math.round(n * 0.07 * 0.9),
      ]);
      const page = (path: string) => measure(`${spindle.url}${path}`, { count: samples });
      const mistOffsets = new Set<number>();
      for (const depth of depths) {
        const cursor = cursors.get(depth);
        const keyset = await page(`/api/v1/jobs?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
        worstKeysetP95 = Math.max(worstKeysetP95, keyset.p95);
        rows.push(latencyRow(`native keyset page, depth ${depth.toLocaleString('en-US')}`, keyset));
        // Mist refuses offsets past MIST_MAX_OFFSET (100,000): its deepest page is there (once).
        const offset = Math.min(depth, MIST_MAX_OFFSET);
        if (mistOffsets.has(offset)) continue;
        mistOffsets.add(offset);
        rows.push(
          latencyRow(
            `Mist offset page, depth ${offset.toLocaleString('en-US')}`,
            await page(`/compat/mist/v2/api/jobs?limit=50&offset=${offset}`),
          ),
        );
      }
      // What a consistent read (the default: it includes every acknowledged write) costs beside an
      // eventual one, on the first page: idle, then while submits are acknowledged at 100/s (their
      // jobs stay queued: this Spindle has no worker slots).
      const first = '/api/v1/jobs?limit=50';
      rows.push(latencyRow('first page, consistent (default), idle', await page(first)));
      rows.push(
        latencyRow('first page, consistency=eventual, idle', await page(`${first}&consistency=eventual`)),
      );
      const seconds = Math.max(3, Math.round(samples / 20));
      const submits = runLoad({
        url: `${spindle.url}/api/v1/functions/stamp/jobs`,
        method: 'POST',
        body: JSON.stringify({ args: {} }),
        open: { rate: 100, seconds: 2 * seconds + 1 },
      });
      const during = (path: string) => measure(`${spindle.url}${path}`, { seconds });
      rows.push(latencyRow('first page, consistent (default), 100 submits/s', await during(first)));
      rows.push(
        latencyRow(
          'first page, consistency=eventual, 100 submits/s',
          await during(`${first}&consistency=eventual`),
        ),
      );
      const submitted = (await submits).samples;
      notes.push(
        `Consistent reads under load: ${submitted.filter((x) => x.status === 202).length} of ${submitted.length} ` +
          'submits acknowledged while the first page was read; a consistent page includes every one acknowledged before it.',
      );
      for (const [depth, cursor] of failedCursors) {
        const filtered = await page(`/api/v1/jobs?limit=50&state=failed${cursor ? `&cursor=${cursor}` : ''}`);
        worstKeysetP95 = Math.max(worstKeysetP95, filtered.p95);
        rows.push(
          latencyRow(`native keyset page state=failed, depth ${depth.toLocaleString('en-US')}`, filtered),
        );
      }
      rows.push(
        latencyRow(
          'Mist paginate=true (page + total of all jobs)',
          await page('/compat/mist/v2/api/jobs?limit=50&paginate=true'),
        ),
      );
      rows.push(
        latencyRow(
          'Mist paginate=true status=failed',
          await page('/compat/mist/v2/api/jobs?limit=50&paginate=true&status=failed'),
        ),
      );
      const raw = await rawSql(sql, n);
      notes.push(
        `Raw SQL on the same table (client-side p50, one connection): keyset page ${raw.keyset} ms, ` +
          `offset page at depth ${(n - 1_000).toLocaleString('en-US')} ${raw.deepOffset} ms, count(*) of all ${raw.count} ms.`,
      );
    } finally {
      await sql.end();
    }
  } finally {
    await spindle.stop();
  }
  return {
    figure: 'list',
    title: `5. A 50-job page at depth, ${n.toLocaleString('en-US')} jobs in the read model, ${samples} sequential requests each`,
    rows,
    goals: [
      {
        id: 'G9',
        goal: 'list page p95 ≤ 10 ms at any depth (keyset)',
        measured: `worst keyset p95 ${worstKeysetP95} ms`,
        met: worstKeysetP95 <= 10,
      },
    ],
    notes,
  };
}

function latencyRow(metric: string, s: LatencySummary): Row {
  return {
    metric: `${metric}: p50 / p95 ${s.p50} / ${s.p95}, p99`,
    unit: 'ms',
    better: 'lower',
    spindle: s.p99,
  };
}

async function measure(url: string, bound: { count: number } | { seconds: number }): Promise<LatencySummary> {
  const load = await runLoad({ url, method: 'GET', closed: { concurrency: 1, ...bound } });
  const failed = load.samples.filter((s) => s.status !== 200);
  if (failed.length > 0)
    throw new Error(`${url}: ${failed.length} answers were not 200 (first ${failed[0]!.status})`);
  return summarize(load.samples.map((s) => s.ms));
}

// Walks the keyset pages from the start and keeps the cursor that begins each wanted depth.
async function cursorsAt(
  api: SpindleApi,
  path: string,
  depths: readonly number[],
): Promise<Map<number, string | null>> {
  const wanted = [...depths].sort((a, b) => a - b);
  const found = new Map<number, string | null>();
  let seen = 0;
  let cursor: string | null = null;
  for (const depth of wanted) {
    while (seen + 500 <= depth) {
      const page: { items: unknown[]; nextCursor: string | null } = await api.json(
        'GET',
        `${path}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen += page.items.length;
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    found.set(depth, depth === 0 ? null : cursor);
  }
  return found;
}

// Jobs one millisecond apart (UUIDv7 ids in time order), mostly succeeded, 7 % failed, 3 % cancelled.
async function seedJobs(sql: Client, n: number): Promise<void> {
  await sql.query(
    `with g as (select i, (extract(epoch from now()) * 1000)::bigint - $1::bigint + i as ms from generate_series(1, $1::int) i),
          h as (select i, ms, lpad(to_hex(ms), 12, '0') as hex from g)
     insert into projector.jobs_v1 (stream_id, stream_position, id, function, context, state, args, result, error,
       external_id, artifact, entrypoint, runtime, log_lines, log_bytes, created_at, started_at, finished_at, updated_at)
     select 'job-' || u.id, 4, u.id, case when i % 2 = 0 then 'stamp' else 'etl-' || (i % 10) end, 'default',
       case when i % 100 < 7 then 'failed' when i % 100 < 10 then 'cancelled' else 'succeeded' end,
       jsonb_build_object('n', i), case when i % 100 >= 10 then jsonb_build_object('value', i) end,
       case when i % 100 < 7 then 'exit code 1' end, 'ext-' || i, 'stamp.js', 'stamp', 'node', 0, 0,
       to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0)
     from (select i, ms, (substr(hex, 1, 8) || '-' || substr(hex, 9, 4) || '-7' || lpad(to_hex(i % 4096), 3, '0') || '-' ||
             to_hex(8 + (i / 4096) % 4) || lpad(to_hex((i / 16384) % 4096), 3, '0') || '-' || lpad(to_hex(i), 12, '0'))::uuid as id
           from h) u`,
    [n],
  );
  await sql.query('vacuum analyze projector.jobs_v1');
}

async function rawSql(
  sql: Client,
  n: number,
): Promise<{ keyset: number; deepOffset: number; count: number }> {
  const time = async (text: string, params: unknown[], times: number): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < times; i++) {
      const t = nowMs();
      await sql.query(text, params);
      samples.push(nowMs() - t);
    }
    return summarize(samples).p50;
  };
  const { rows } = await sql.query<{ id: string }>(
    'select id from projector.jobs_v1 order by id desc offset $1 limit 1',
    [Math.round(n / 2)],
  );
  const middle = rows[0]!.id;
  return {
    keyset: await time(
      'select * from projector.jobs_v1 where id < $1 order by id desc limit 51',
      [middle],
      50,
    ),
    deepOffset: await time(
      'select * from projector.jobs_v1 order by id desc offset $1 limit 50',
      [n - 1_000],
      10,
    ),
    count: await time('select count(*) from projector.jobs_v1', [], 10),
  };
}
