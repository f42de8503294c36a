import type { BenchEnv } from '../lib/bench-env';
import type { FigureReport } from '../lib/report';
import { SpindleApi } from '../lib/spindle-api';
import { startSpindle } from '../lib/spindle-server';
import { nowMs, perSecond, round } from '../lib/stats';
import { PROGRAMS } from '../fixtures/programs';

interface LogPage {
  readonly items: { line: number; text: string }[];
  readonly totalLines: number;
  readonly complete: boolean;
}

// Figure 6: log ingestion of one job writing `logLines` lines of 100 bytes as fast as a pipe takes
// them. Measured from the job's start to the moment the API serves its last line; then every line
// is read back by line pages and checked, in order, none missing.
export async function logsFigure(env: BenchEnv): Promise<FigureReport> {
  const lines = env.sizes.logLines;
  const spindle = await startSpindle(env, 'logs');
  let rate = 0;
  let writeRate = 0;
  let missing = 0;
  let firstLineMs = NaN;
  try {
    const api = new SpindleApi(spindle.url);
    await api.upload('spew.js', PROGRAMS['spew.js']);
    await api.createFunction({ name: 'spew', artifact: 'spew.js', entrypoint: '', runtime: 'exec' });
    const submitted = nowMs();
    const job = await api.submit('spew', { lines, width: 100 });
    const logs = (query: string) => api.json<LogPage>('GET', `/api/v1/jobs/${job.id}/logs?${query}`);
    let stored = 0;
    await api.waitUntil(
      'the log to hold every line',
      async () => {
        stored = (await logs('from=0&size=1')).totalLines;
        if (stored > 0 && Number.isNaN(firstLineMs)) firstLineMs = nowMs() - submitted;
        return stored >= lines + 1; // and the result line
      },
      600_000,
      20,
    );
    const allStored = nowMs();
    const done = await api.job(job.id);
    if (!done.startedAt) throw new Error(`job ${job.id} never started: ${done.state}`);
    const startedAt = Date.parse(done.startedAt);
    rate = perSecond(lines, allStored - startedAt);
    writeRate = done.finishedAt ? perSecond(lines, Date.parse(done.finishedAt) - startedAt) : 0;
    // Every line, in order, by pages of the largest size the API serves.
    // Line offsets count from 0; the program numbers its lines from 1.
    let expected = 1;
    for (let from = 0; from < lines; from += 25_000) {
      const page = await logs(`from=${from}&size=25000`);
      for (const item of page.items) {
        if (expected > lines) break;
        const n = Number(/^line (\d+) /.exec(item.text)?.[1]);
        if (n !== expected || item.line !== expected - 1) missing++;
        expected++;
      }
    }
    missing += Math.max(0, lines + 1 - expected);
  } finally {
    await spindle.stop();
  }
  return {
    figure: 'logs',
    title: `6. Log ingestion, one job writing ${lines.toLocaleString('en-US')} lines of 100 bytes`,
    rows: [
      {
        metric: 'lines stored and served per second (job start → last line readable)',
        unit: 'lines/s',
        better: 'higher',
        spindle: rate,
      },
      {
        metric: 'lines written per second by the job (start → exit)',
        unit: 'lines/s',
        better: 'higher',
        spindle: writeRate,
      },
      { metric: 'submit → first line readable', unit: 'ms', better: 'lower', spindle: round(firstLineMs) },
      { metric: 'lines missing or out of order', unit: 'count', better: 'lower', spindle: missing },
    ],
    goals: [
      {
        id: 'G13',
        goal: '≥ 20 000 lines/s for one job, none lost',
        measured: `${rate} lines/s, ${missing} missing`,
        met: rate >= 20_000 && missing === 0,
      },
    ],
    notes: ['No peer keeps job logs; the figure stands alone.'],
  };
}
