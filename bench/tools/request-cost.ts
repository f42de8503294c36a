import { readFileSync } from 'node:fs';
import { runLoad } from '../lib/load-generator';
import type { LoadPlan } from '../lib/load-generator';

// What one kind of request costs a Spindle process: a closed loop of 32 in flight (3 s of warm-up,
// then the window), and the CPU the process spent (from /proc, user + system) per request answered,
// whatever the status. How the consistent reads' shared look was measured (BENCHMARKS.md,
// 2026-12-07 afternoon). The process is the one that serves the route (in the node topology the
// control process: `SPINDLE_PART=gateway,...` in its environment).
// <pids> may name several processes, comma-separated (every process of a topology: ab-submit.sh):
// their CPU is summed.
//   node -r @swc-node/register bench/tools/request-cost.ts <url> <GET|POST> <body|''> <pids> [seconds]
const [url, method, body, pidList, seconds] = process.argv.slice(2);
if (!url || !pidList || (method !== 'GET' && method !== 'POST'))
  throw new Error('usage: request-cost.ts <url> <GET|POST> <body|""> <pid[,pid...]> [seconds]');
const pids = pidList.split(',');

// utime + stime in clock ticks (fields 14 and 15 of /proc/<pid>/stat, after the command's name).
function ticks(): number {
  let sum = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    sum += Number(fields[11]) + Number(fields[12]);
  }
  return sum;
}

async function main(): Promise<void> {
  const plan = (secs: number): LoadPlan => ({
    url: url!,
    method: method as 'GET' | 'POST',
    ...(body ? { body } : {}),
    closed: { concurrency: 32, seconds: secs },
  });
  await runLoad(plan(3));
  const before = ticks();
  const load = await runLoad(plan(Number(seconds ?? 10)));
  const spent = ticks() - before;
  const statuses: Record<number, number> = {};
  for (const s of load.samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  const n = load.samples.length;
  console.log(
    JSON.stringify({
      requests: n,
      perSecond: Math.round(n / ((load.endedAt - load.startedAt) / 1000)),
      cpuMsPerRequest: Number(((spent * 10) / n).toFixed(3)), // USER_HZ 100: a tick is 10 ms
      statuses,
    }),
  );
}

void main();
