// Where a no-op job's time goes between its hops, from what the event stores and inboxes record:
// the submit decided (JobSubmitted), the dispatcher's assignment (JobAssigned), the agent's start
// report (TaskStarted: decided, and the time the task began in its process), the scheduler's
// consumer applying it (its inbox row), the end report (TaskFinished) and its application; for an
// exclusive job also its worker's (the agent's WorkerProcessStarted and WorkerProcessExited, the
// scheduler's WorkerStopped). TRACE_MODE=shared (default: a warm node runner, as figure 3's shared
// jobs) or exclusive (an exec process per job in a context of maxJobs 16, as figure 3's).
// Usage (a node-topology Spindle already up):
//   node -r @swc-node/register bench/tools/job-trace.ts <gateway url> <database url> [jobs] [concurrency] [brokers] [kafka namespace]
// With the broker and the Spindle's KAFKA_NAMESPACE, also when each assignment reached the host
// topic and each agent report the report topic (the Kafka message's timestamp: the relay's
// publish). TRACE_DUMP=<file> keeps every job's row as JSON. This is how the relay's wait behind
// the audit records' produce requests was found (BENCHMARKS.md, 2026-12-05 evening).
import { writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { EventTopics } from '@spindle/contracts';
import { runLoad } from '../lib/load-generator';
import { SpindleApi, settledJobs } from '../lib/spindle-api';
import { quantile } from '../lib/stats';
import { noopFunctions } from '../fixtures/noop-functions';

const [gateway, databaseUrl, jobsArg, concurrencyArg] = process.argv.slice(2);
const jobs = Number(jobsArg ?? 1500);
const concurrency = Number(concurrencyArg ?? 32);
const [brokers, namespace] = process.argv.slice(6);
const exclusive = process.env['TRACE_MODE'] === 'exclusive';
const fn = exclusive ? 'noop-exclusive' : 'noop-shared';

// When each job's assignment reached its host's topic (JobAssigned) and its agent's reports the
// report topic (TaskStarted, TaskFinished): the Kafka message's timestamp, the relay's publish.
async function publishedTimes(ids: ReadonlySet<string>): Promise<Map<string, Record<string, number>>> {
  const published = new Map<string, Record<string, number>>();
  if (!brokers) return published;
  const hopOf: Record<string, string> = {
    JobAssigned: 'published',
    TaskStarted: 'start_published',
    TaskFinished: 'finish_published',
  };
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `job-trace-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({
    topics: [EventTopics.schedulerHost, EventTopics.workerReport].map(
      (topic) => `${namespace ? `${namespace}.` : ''}${topic}`,
    ),
    fromBeginning: true,
  });
  const complete = () =>
    published.size >= ids.size && [...published.values()].every((t) => Object.keys(t).length === 3);
  await new Promise<void>((resolve) => {
    const idle = setInterval(() => complete() && resolve(), 200);
    setTimeout(() => (clearInterval(idle), resolve()), 20_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(message.value!.toString()) as {
          type: string;
          data: { id?: string; jobId?: string };
        };
        const hop = hopOf[event.type];
        const id = event.type === 'JobAssigned' ? event.data.id : event.data.jobId;
        if (!hop || !id || !ids.has(id)) return;
        published.set(id, { ...published.get(id), [hop]: Number(message.timestamp) });
      },
    });
  });
  await consumer.disconnect();
  return published;
}

// The scheduler's consumer of agent reports, as its inbox names it (agent-reports.consumer.ts): the
// inbox's key leads with the consumer, so naming it makes each look-up an index probe, not a scan
// of the whole inbox per job (which counted in the CPU measured around a trace).
const AGENT_REPORTS_CONSUMER = 'scheduler.agent-reports.v1';

// One row per job: every hop's time in epoch ms (null when the hop was not found).
const TIMELINE = `
with job as (
  select substr(stream_id, 5) as id,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'JobSubmitted') as submitted,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'JobAssigned') as assigned,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'JobStarted') as started_event,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'JobSucceeded') as succeeded_event,
    max(data->>'workerId') filter (where type = 'JobAssigned') as worker_id
  from scheduler.events where stream_id like 'job-%' and stream_id = any($1) group by stream_id
), worker as (
  select data->>'workerId' as worker_id,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'WorkerProcessStarted') as worker_process_started,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'WorkerProcessExited') as worker_process_exited
  from worker.events where type in ('WorkerProcessStarted', 'WorkerProcessExited') group by data->>'workerId'
), stopped as (
  select substr(stream_id, 8) as worker_id, max(extract(epoch from occurred_at) * 1000) as worker_stopped
  from scheduler.events where type = 'WorkerStopped' group by stream_id
), task as (
  select data->>'jobId' as id,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'TaskStarted') as task_started_decided,
    max(extract(epoch from (data->>'startedAt')::timestamptz) * 1000) filter (where type = 'TaskStarted') as runner_entered,
    max(extract(epoch from occurred_at) * 1000) filter (where type = 'TaskFinished') as task_finished_decided,
    max(extract(epoch from (data->>'finishedAt')::timestamptz) * 1000) filter (where type = 'TaskFinished') as task_ended,
    (array_agg(event_id) filter (where type = 'TaskStarted'))[1] as started_id,
    (array_agg(event_id) filter (where type = 'TaskFinished'))[1] as finished_id
  from worker.events where type in ('TaskStarted', 'TaskFinished') and data->>'jobId' = any($2) group by data->>'jobId'
)
select job.*, worker.worker_process_started, worker.worker_process_exited, stopped.worker_stopped,
  task.task_started_decided, task.task_ended, task.runner_entered, task.task_finished_decided,
  (select extract(epoch from applied_at) * 1000 from scheduler.consumer_inbox i
   where i.consumer = '${AGENT_REPORTS_CONSUMER}' and i.event_id = task.started_id) as start_applied,
  (select extract(epoch from applied_at) * 1000 from scheduler.consumer_inbox i
   where i.consumer = '${AGENT_REPORTS_CONSUMER}' and i.event_id = task.finished_id) as finish_applied
from job left join task using (id) left join worker using (worker_id) left join stopped using (worker_id)`;

const HOPS: [string, string, string][] = [
  ['submitted', 'assigned', 'submit decided → assignment decided (queue + dispatch pass)'],
  ['assigned', 'published', 'assignment decided → on the host topic (commit, relay)'],
  ['published', 'runner_entered', 'on the host topic → runner entered the task (Kafka, agent, runner)'],
  ['assigned', 'task_started_decided', 'assignment decided → agent decided the start (relay, Kafka, agent)'],
  ['assigned', 'runner_entered', 'assignment decided → runner entered the task'],
  ['runner_entered', 'task_started_decided', 'runner entered → agent decided the start'],
  ['task_started_decided', 'start_applied', "agent's start report → scheduler's consumer applied it"],
  ['task_started_decided', 'start_published', "agent's start report → on the report topic (commit, relay)"],
  ['start_published', 'start_applied', 'on the report topic → applied (Kafka, scheduler consumer)'],
  ['runner_entered', 'task_finished_decided', 'runner entered → agent decided the finish'],
  ['runner_entered', 'task_ended', 'runner entered → the task ended (its own run)'],
  ['task_ended', 'task_finished_decided', 'the task ended → agent decided the finish'],
  ['task_finished_decided', 'finish_applied', "agent's finish report → scheduler's consumer applied it"],
  [
    'task_finished_decided',
    'finish_published',
    "agent's finish report → on the report topic (commit, relay)",
  ],
  ['finish_published', 'finish_applied', 'on the report topic → applied (Kafka, scheduler consumer)'],
  ['assigned', 'worker_process_started', 'assignment decided → worker process started (exclusive)'],
  ['worker_process_started', 'runner_entered', 'worker process started → task began (exclusive)'],
  ['task_finished_decided', 'worker_process_exited', 'task finished → worker process exited (exclusive)'],
  ['worker_process_exited', 'worker_stopped', 'worker exited → WorkerStopped decided (exclusive)'],
  ['submitted', 'finish_applied', 'whole: submit decided → finish applied'],
];

async function main(): Promise<void> {
  const api = new SpindleApi(gateway!);
  await noopFunctions(api);
  const plan = {
    url: `${gateway}/api/v1/functions/${fn}/jobs`,
    method: 'POST' as const,
    body: '{"args":{}}',
  };
  // TRACE_WARMUP=<n> (100): jobs run before the traced ones, at 4 in flight (0: none, so counts of
  // statements over the whole run are the traced jobs' alone).
  const warmup = Number(process.env['TRACE_WARMUP'] ?? 100);
  const warm = await runLoad({ ...plan, closed: { concurrency: 4, count: warmup } });
  await settledJobs(api, fn, new Set(warm.samples.flatMap((s) => (s.id ? [s.id] : []))), 120_000);
  // TRACE_RATE=<n>: an open loop at n submits a second (as figure 2) instead of `concurrency` in flight.
  const rate = Number(process.env['TRACE_RATE'] ?? 0);
  const run = await runLoad(
    rate > 0
      ? { ...plan, open: { rate, seconds: jobs / rate } }
      : { ...plan, closed: { concurrency, count: jobs } },
  );
  const ids = run.samples.flatMap((s) => (s.status === 202 && s.id ? [s.id] : []));
  await settledJobs(api, fn, new Set(ids), 600_000);
  await new Promise((r) => setTimeout(r, 2000));
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<Record<string, number | null>>(TIMELINE, [
    ids.map((id) => `job-${id}`),
    ids,
  ]);
  await client.end();
  const published = await publishedTimes(new Set(ids));
  for (const r of rows) {
    const times = published.get(String(r['id'])) ?? {};
    for (const hop of ['published', 'start_published', 'finish_published']) r[hop] = times[hop] ?? null;
  }
  if (process.env['TRACE_DUMP']) writeFileSync(process.env['TRACE_DUMP'], JSON.stringify(rows));
  const first = Math.min(...rows.map((r) => r['submitted'] ?? Infinity));
  const last = Math.max(...rows.map((r) => r['finish_applied'] ?? 0));
  console.log(
    `${rows.length} jobs traced of ${ids.length}; ${(ids.length / ((last - first) / 1000)).toFixed(0)} jobs/s first submit → last finish applied`,
  );
  for (const [from, to, what] of HOPS.filter(([, , what]) => exclusive || !what.endsWith('(exclusive)'))) {
    const d = rows.flatMap((r) =>
      r[from] != null && r[to] != null ? [Number(r[to]) - Number(r[from])] : [],
    );
    const sorted = d.sort((a, b) => a - b);
    const q = (p: number) => (sorted.length > 0 ? quantile(sorted, p / 100) : NaN).toFixed(1).padStart(9);
    console.log(
      `${what.padEnd(72)} n=${String(d.length).padStart(5)} p50 ${q(50)} p90 ${q(90)} p99 ${q(99)} ms`,
    );
  }
  // How many jobs each hop handled per second over the run, in 1 s buckets: where a rate caps.
  for (const hop of [
    'submitted',
    'assigned',
    'published',
    'task_started_decided',
    'start_applied',
    'task_finished_decided',
    'finish_applied',
  ]) {
    const buckets = new Map<number, number>();
    for (const r of rows) {
      if (r[hop] == null) continue;
      const second = Math.floor((Number(r[hop]) - first) / 1000);
      buckets.set(second, (buckets.get(second) ?? 0) + 1);
    }
    const seconds = Math.max(...buckets.keys()) + 1;
    console.log(
      `${hop.padEnd(22)} per second: ${Array.from({ length: seconds }, (_, s) => buckets.get(s) ?? 0).join(' ')}`,
    );
  }
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
