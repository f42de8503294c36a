import type { BenchEnv } from '../lib/bench-env';
import { runLoad } from '../lib/load-generator';
import type { FigureReport } from '../lib/report';
import { counterOf, histogramDelta, histogramOf, quantileMs } from '../lib/prometheus';
import { SpindleApi, settledJobs } from '../lib/spindle-api';
import { startSpindle } from '../lib/spindle-server';
import type { SpindleServer } from '../lib/spindle-server';
import { perSecond } from '../lib/stats';
import { warmStamp } from '../fixtures/warm-stamp';

const JOBS_CONSUMER = 'consumer="projector.jobs.v1"';

// Figure 4: projection lag under a steady 1 000 job events/s. Jobs on a warm shared worker make four
// job events each (submitted, assigned, started, succeeded), so 250 jobs/s offered give about 1 000
// events/s to the jobs projection. Lag is the projector's own histogram (GET /metrics): from the
// moment the scheduler decided an event to the moment its read-model row committed, through the
// outbox relay and Kafka. Two scrapes bracket the window; the quantiles come from their difference.
export async function projectionLagFigure(env: BenchEnv): Promise<FigureReport> {
  const seconds = env.sizes.lagSeconds;
  const rate = 250;
  const spindle = await startSpindle(env, 'lag');
  let p50 = NaN;
  let p95 = NaN;
  let p99 = NaN;
  let eventsPerSecond = 0;
  let observed = 0;
  try {
    const api = new SpindleApi(spindle.url);
    const plan = await warmStamp(api);
    const before = await scrape(spindle);
    const startedAt = Date.now();
    const load = await runLoad({ ...plan, open: { rate, seconds } });
    await settledJobs(
      api,
      'stamp',
      new Set(load.samples.flatMap((s) => (s.id ? [s.id] : []))),
      env.sizes.settleMs,
    );
    const after = await scrape(spindle);
    const elapsed = Date.now() - startedAt;
    const lag = histogramDelta(
      histogramOf(before, 'spindle_consumer_lag_seconds', JOBS_CONSUMER),
      histogramOf(after, 'spindle_consumer_lag_seconds', JOBS_CONSUMER),
    );
    p50 = quantileMs(lag, 0.5);
    p95 = quantileMs(lag, 0.95);
    p99 = quantileMs(lag, 0.99);
    observed = lag.count;
    eventsPerSecond = perSecond(
      counterOf(after, 'spindle_consumer_events_total', JOBS_CONSUMER) -
        counterOf(before, 'spindle_consumer_events_total', JOBS_CONSUMER),
      elapsed,
    );
  } finally {
    await spindle.stop();
  }
  return {
    figure: 'projection-lag',
    title: `4. Projection lag at ~1 000 job events/s (${rate} jobs/s offered for ${seconds} s)`,
    rows: [
      {
        metric: 'job events projected per second (the whole window)',
        unit: '/s',
        better: 'higher',
        spindle: eventsPerSecond,
      },
      { metric: 'event decided → read model committed p50', unit: 'ms', better: 'lower', spindle: p50 },
      { metric: 'event decided → read model committed p95', unit: 'ms', better: 'lower', spindle: p95 },
      { metric: 'event decided → read model committed p99', unit: 'ms', better: 'lower', spindle: p99 },
      { metric: 'events observed', unit: 'count', better: 'higher', spindle: observed },
    ],
    goals: [
      {
        id: 'G7',
        goal: 'projection lag p99 ≤ 100 ms at 1 000 events/s',
        measured: `p99 ${p99} ms`,
        met: p99 <= 100,
      },
    ],
    notes: [
      'Quantiles are interpolated within the histogram buckets of spindle_consumer_lag_seconds (1, 2.5, 5, 7.5, 10, 15, 20, 30, 50, 75, 100 ms …).',
      'The window includes the drain after the offered load ends; the events/s figure is averaged over it.',
    ],
  };
}

// Every process's metrics in one text: the projector's series are in whichever process runs it.
async function scrape(spindle: SpindleServer): Promise<string> {
  const texts = await Promise.all(
    spindle.processUrls.map(async (url) => {
      const response = await fetch(`${url}/metrics`);
      if (!response.ok) throw new Error(`GET ${url}/metrics: ${response.status}`);
      return response.text();
    }),
  );
  return texts.join('\n');
}
