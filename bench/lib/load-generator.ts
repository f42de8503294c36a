import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { nowMs } from './stats';

// A load generator in a process of its own, so its work does not count against the measured
// system's event loop. Open loop: requests leave at their scheduled times whatever is still in
// flight, and latency counts from the scheduled time (no coordinated omission). Closed loop: a
// fixed number of requests in flight. The body may hold "__TS__", replaced by the send time.
export interface LoadPlan {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly open?: { readonly rate: number; readonly seconds: number };
  readonly closed?: { readonly concurrency: number; readonly count?: number; readonly seconds?: number };
}

export interface Sample {
  readonly at: number; // scheduled (open) or actual (closed) send time, epoch ms
  readonly ms: number; // until the whole answer was read
  readonly status: number; // 0: the connection failed
  readonly id?: string; // the `id` of a JSON answer
}

export interface LoadResult {
  readonly samples: Sample[];
  readonly startedAt: number;
  readonly endedAt: number;
}

export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--load-generator'], {
      execArgv: ['-r', '@swc-node/register'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (result: LoadResult) => resolve(result));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(plan);
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 });

function send(plan: LoadPlan, target: URL, at: number): Promise<Sample> {
  const body = plan.body?.replace('"__TS__"', String(at));
  return new Promise((done) => {
    const req = request(
      target,
      {
        agent,
        method: plan.method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...plan.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = nowMs() - at;
          let id: string | undefined;
          const text = Buffer.concat(chunks).toString();
          const match = /"id":"([^"]+)"/.exec(text);
          if (match) id = match[1];
          done({ at, ms, status: res.statusCode ?? 0, ...(id ? { id } : {}) });
        });
      },
    );
    req.on('error', () => done({ at, ms: nowMs() - at, status: 0 }));
    req.end(body);
  });
}

async function generate(plan: LoadPlan): Promise<LoadResult> {
  const target = new URL(plan.url);
  const pending: Promise<Sample>[] = [];
  const startedAt = nowMs();
  if (plan.open) {
    const { rate, seconds } = plan.open;
    const total = Math.round(rate * seconds);
    for (let i = 0; i < total; i++) {
      const due = startedAt + (i * 1000) / rate;
      const wait = due - nowMs();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(send(plan, target, due));
    }
  } else if (plan.closed) {
    const { concurrency, count, seconds } = plan.closed;
    const until = seconds === undefined ? Infinity : startedAt + seconds * 1000;
    let issued = 0;
    const lanes = Array.from({ length: concurrency }, async () => {
      while ((count === undefined || issued < count) && nowMs() < until) {
        issued++;
        const sample = send(plan, target, nowMs());
        pending.push(sample);
        await sample;
      }
    });
    await Promise.all(lanes);
  }
  const samples = await Promise.all(pending);
  return { samples, startedAt, endedAt: nowMs() };
}

if (process.argv.includes('--load-generator')) {
  process.once('message', (plan: LoadPlan) => {
    void generate(plan).then((result) => process.send!(result, () => process.exit(0)));
  });
}
