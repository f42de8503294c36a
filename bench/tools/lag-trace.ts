// Where figure 4's projection lag goes, hop by hop, for every job event of a load: decided (the
// event's occurredAt), published (the Kafka message's timestamp: the relay's produce) and applied
// (the jobs projection's inbox row, its statement's start). Usage (a node-topology Spindle up, with a
// worker host, on the broker and namespace given):
//   node -r @swc-node/register bench/tools/lag-trace.ts <gateway url> <database url> <brokers> <kafka namespace> [rate] [seconds]
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { EventTopics } from '@spindle/contracts';
import { runLoad } from '../lib/load-generator';
import { SpindleApi, settledJobs } from '../lib/spindle-api';
import { quantile } from '../lib/stats';
import { warmStamp } from '../fixtures/warm-stamp';

const [gateway, databaseUrl, brokers, namespace, rateArg, secondsArg] = process.argv.slice(2);
if (!gateway || !databaseUrl || !brokers || !namespace)
  throw new Error('usage: lag-trace.ts <gateway url> <database url> <brokers> <namespace> [rate] [seconds]');

async function main(): Promise<void> {
  const api = new SpindleApi(gateway!);
  const plan = await warmStamp(api);
  const load = await runLoad({
    ...plan,
    open: { rate: Number(rateArg ?? 250), seconds: Number(secondsArg ?? 10) },
  });
  const ids = new Set(load.samples.flatMap((s) => (s.id ? [s.id] : [])));
  await settledJobs(api, 'stamp', ids, 60_000);
  await new Promise((r) => setTimeout(r, 1_000));
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const { rows } = await db.query<{
    event_id: string;
    type: string;
    decided: number;
    applied: number | null;
  }>(
    `select e.event_id, e.type, extract(epoch from e.occurred_at) * 1000 as decided,
            extract(epoch from i.applied_at) * 1000 as applied
     from scheduler.events e
     left join projector.consumer_inbox i on i.event_id = e.event_id and i.consumer = 'projector.jobs.v1'
     where e.stream_id = any($1::text[])`,
    [[...ids].map((id) => `job-${id}`)],
  );
  await db.end();
  const published = new Map<string, number>();
  const kafka = new Kafka({ brokers: brokers!.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `lag-trace-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [`${namespace}.${EventTopics.schedulerJob}`], fromBeginning: true });
  await new Promise<void>((resolve) => {
    const idle = setInterval(() => published.size >= rows.length && resolve(), 200);
    setTimeout(() => (clearInterval(idle), resolve()), 20_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(message.value!.toString()) as { id?: string };
        const id = event.id;
        if (id) published.set(id, Number(message.timestamp));
      },
    });
  });
  await consumer.disconnect();
  const hops = new Map<string, { relay: number[]; project: number[]; total: number[] }>();
  for (const row of rows) {
    const pub = published.get(row.event_id);
    if (pub === undefined || row.applied === null) continue;
    const h = hops.get(row.type) ?? { relay: [], project: [], total: [] };
    h.relay.push(pub - Number(row.decided));
    h.project.push(Number(row.applied) - pub);
    h.total.push(Number(row.applied) - Number(row.decided));
    hops.set(row.type, h);
  }
  const q = (xs: number[]) =>
    [0.5, 0.95, 0.99]
      .map((p) =>
        quantile(
          [...xs].sort((a, b) => a - b),
          p,
        ).toFixed(1),
      )
      .join(' / ');
  console.log(`${ids.size} jobs, ${rows.length} events, ${published.size} published seen`);
  console.log('type: decided→published | published→applied(start) | decided→applied  (p50 / p95 / p99 ms)');
  for (const [type, h] of hops)
    console.log(`${type} (${h.total.length}): ${q(h.relay)} | ${q(h.project)} | ${q(h.total)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
