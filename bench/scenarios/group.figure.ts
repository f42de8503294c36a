import type { BenchEnv } from '../lib/bench-env';
import type { FigureReport } from '../lib/report';
import { SpindleApi } from '../lib/spindle-api';
import { startSpindle } from '../lib/spindle-server';
import { nowMs, round, summarize } from '../lib/stats';
import { PROGRAMS } from '../fixtures/programs';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

// Figure 8: what a warm Ilum group saves. The same Python function, run one request at a time:
// through a group of one warm worker (`POST /group/{id}/job/execute`, answered with the result),
// and as a cold exclusive job on the native API (a worker process started for it and stopped after
// it; the client submits and reads the job until it has ended, every 5 ms). Both are round trips
// seen by the client, HTTP included.
export async function groupFigure(env: BenchEnv): Promise<FigureReport> {
  const { groupRequests, coldJobs } = env.sizes;
  const spindle = await startSpindle(env, 'group');
  const warm: number[] = [];
  const cold: number[] = [];
  const failures: string[] = [];
  try {
    const api = new SpindleApi(spindle.url);
    const ilum = new SpindleApi(`${spindle.url}/compat/ilum/api/v1`);

    const form = new FormData();
    form.append('name', 'bench-warm');
    form.append('language', 'PYTHON');
    form.append('scale', '1');
    form.append('pyFiles', new Blob([PROGRAMS['echo_group.py']]), 'echo_group.py');
    const response = await fetch(`${ilum.url}/group`, { method: 'POST', body: form });
    if (!response.ok) throw new Error(`POST /group: ${response.status} ${await response.text()}`);
    const { groupId } = (await response.json()) as { groupId: string };
    await api.waitUntil(
      'the group worker to be READY',
      async () => {
        const group = await ilum.json<{ jobs: { state: string }[] }>('GET', `/group/${groupId}`);
        return group.jobs.length === 1 && group.jobs[0]!.state === 'READY';
      },
      120_000,
    );
    const execute = async (n: number): Promise<number> => {
      const t = nowMs();
      const answer = await ilum.json<{ result: string | null; error: unknown }>(
        'POST',
        `/group/${groupId}/job/execute`,
        { type: 'interactive_job_execute', jobClass: 'echo_group.Echo', jobConfig: { n } },
      );
      const ms = nowMs() - t;
      if (answer.result !== String(n)) failures.push(`group request ${n}: ${JSON.stringify(answer)}`);
      return ms;
    };
    await execute(-1); // the worker's first request imports the module: not what is measured
    for (let n = 0; n < groupRequests; n++) warm.push(await execute(n));

    await api.upload('echo.py', PROGRAMS['echo.py']);
    await api.createContext({ name: 'cold', workerMode: 'exclusive', maxJobs: 1 });
    await api.createFunction({
      name: 'echo',
      artifact: 'echo.py',
      entrypoint: 'echo',
      runtime: 'python',
      defaultContext: 'cold',
    });
    for (let n = 0; n < coldJobs; n++) {
      const t = nowMs();
      const job = await api.submit('echo', { n });
      let state = job.state;
      let result: unknown = null;
      while (!FINISHED.has(state)) {
        await new Promise((r) => setTimeout(r, 5));
        ({ state, result } = await api.job(job.id));
      }
      cold.push(nowMs() - t);
      if (state !== 'succeeded' || result !== String(n))
        failures.push(`cold job ${n}: ${state} ${JSON.stringify(result)}`);
    }
  } finally {
    await spindle.stop();
  }
  const w = summarize(warm);
  const c = summarize(cold);
  return {
    figure: 'group',
    title: `8. A warm Ilum group against a cold exclusive job, Python, one request at a time (${groupRequests} warm, ${coldJobs} cold)`,
    rows: [
      { metric: 'warm group execute round trip p50', unit: 'ms', better: 'lower', spindle: w.p50 },
      { metric: 'warm group execute round trip p99', unit: 'ms', better: 'lower', spindle: w.p99 },
      { metric: 'cold exclusive job round trip p50', unit: 'ms', better: 'lower', spindle: c.p50 },
      { metric: 'cold exclusive job round trip p99', unit: 'ms', better: 'lower', spindle: c.p99 },
      {
        metric: 'cold p50 / warm p50 (how many times faster the warm group answers)',
        unit: '×',
        better: 'higher',
        spindle: w.p50 > 0 ? round(c.p50 / w.p50) : null,
      },
      { metric: 'requests with a wrong answer', unit: 'count', better: 'lower', spindle: failures.length },
    ],
    goals: [],
    notes: [
      'Warm: Ilum `POST /group/{id}/job/execute` on a group of scale 1 (its Python interpreter already up and the ' +
        "module imported by one request before the measured ones); the answer carries the request's result.",
      'Cold: native submit of the same function in an exclusive context (a worker process per job), then ' +
        'GET /api/v1/jobs/{id} every 5 ms until it has ended.',
      ...failures.slice(0, 5),
    ],
  };
}
