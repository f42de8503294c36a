import { runLoad } from '../lib/load-generator';
import { perSecond, summarize } from '../lib/stats';

// A closed-loop submit load from the command line: closed-loop.ts <url> <concurrency> <seconds>.
async function main(): Promise<void> {
  const [url, concurrency, seconds] = process.argv.slice(2);
  const load = await runLoad({
    url: url!,
    method: 'POST',
    body: '{"args":{"ts":"__TS__"}}',
    closed: { concurrency: Number(concurrency), seconds: Number(seconds) },
  });
  const ok = load.samples.filter((s) => s.status === 202);
  console.log(
    JSON.stringify({
      perSecond: perSecond(ok.length, load.endedAt - load.startedAt),
      errors: load.samples.length - ok.length,
      latency: summarize(ok.map((s) => s.ms)),
    }),
  );
}

void main();
