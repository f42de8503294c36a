import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { CommandBus, KafkaMessageBus, commandServerOptions, createCommandClient } from '@spindle/backbone';
import { InProcessCommandServer } from '@spindle/backbone';
import { ALL_COMMAND_TOPICS, CommandPatterns } from '@spindle/contracts';
import { loadConfig } from '@spindle/platform';
import { forkFloorProcess, serveFloorRole } from '../floor/floor-process';
import type { FloorProcess } from '../floor/floor-process';
import { CLOCK_TICKS_PER_SECOND, listenerPid, procStat } from '../lib/proc-stat';
import { perSecond, round, summarize } from '../lib/stats';

// What a command's Kafka hop costs in Spindle's own transport, with no work at either end: a sender
// process sends submitJob commands through the gateway's CommandBus (Nest's ClientKafka, coalesced
// produces, the reply consumer) to an owner process's command server (Nest's ServerKafka, the
// batch handled at once, replies coalesced), whose handler answers at once with a reply the size
// of a submit's (its JobSubmitted event). A closed loop, `concurrency` in flight for `seconds`
// after 5 s of warm-up; prints the commands answered per second, their latency, and the CPU per
// command of the sender, the owner and the broker (from /proc: the process listening on the
// broker's port here). Against the command floor (bench/floor/command-floor.ts: raw kafkajs, and
// HTTP and an insert besides) it says what Nest's transport adds; against the `all` topology's
// gateway and scheduler, what the hop is of their cost.
//   KAFKA_BROKERS=127.0.0.1:19092 node -r @swc-node/register bench/tools/command-hop.ts [concurrency] [seconds]

const PATTERNS = [CommandPatterns.submitJob];
const WARM_UP_MS = 5_000;

// A submit's command as the gateway sends it (job-submission.service.ts), about 600 bytes.
function submitCommand(): object {
  const id = randomUUID();
  return {
    correlationId: randomUUID(),
    issuedAt: new Date().toISOString(),
    id,
    function: 'stamp',
    args: { ts: Date.now() },
    artifact: 'stamp.js',
    artifactSha256: 'd538dd76c62246e6dcdd9debc971f3214f79e9108136f7a1734f95e25868715f',
    source: { api: 'native', method: 'POST', path: '/api/v1/functions/stamp/jobs' },
  };
}

@Controller()
class AnswerAtOnce {
  // A reply the size of a submit's: the job's stream and its JobSubmitted event.
  @MessagePattern(CommandPatterns.submitJob)
  submit(@Payload() command: { id: string }) {
    return {
      ok: true,
      streamId: `job-${command.id}`,
      streamPosition: 1,
      events: [
        {
          eventId: randomUUID(),
          type: 'JobSubmitted',
          schemaVersion: 1,
          streamId: `job-${command.id}`,
          streamPosition: 1,
          occurredAt: new Date().toISOString(),
          correlationId: randomUUID(),
          causationId: null,
          data: command,
        },
      ],
    };
  }
}

@Module({ controllers: [AnswerAtOnce] })
class OwnerModule {}

type Answer =
  | { readonly kind: 'up' }
  | { readonly kind: 'cpu'; readonly seconds: number }
  | { readonly kind: 'load'; readonly ms: readonly number[]; readonly elapsedMs: number };

// What both ends are handed when forked: the broker and a namespace of the run's own.
interface Setup {
  readonly brokers: string;
  readonly namespace: string;
}

const configOf = ({ brokers, namespace }: Setup) =>
  loadConfig({ KAFKA_BROKERS: brokers, KAFKA_NAMESPACE: namespace });

const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function serveOwner(setup: Setup): Promise<void> {
  const kafkaServer = commandServerOptions(configOf(setup), 'scheduler').find(
    (s) => !(s.strategy instanceof InProcessCommandServer),
  )!;
  const server = await NestFactory.createMicroservice(OwnerModule, { ...kafkaServer, logger: false });
  await server.listen();
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'cpu') process.send!({ kind: 'cpu', seconds: cpuSeconds() } satisfies Answer);
    else void server.close().finally(() => process.exit(0));
  });
  process.send!({ kind: 'up' } satisfies Answer);
}

async function serveSender(setup: Setup): Promise<void> {
  const bus = new CommandBus(createCommandClient(configOf(setup), 'gateway', PATTERNS), PATTERNS, 30_000);
  await bus.connect();
  const loop = async (concurrency: number, ms: number) => {
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() - started < ms) {
          const sent = performance.now();
          await bus.execute(CommandPatterns.submitJob, submitCommand());
          latencies.push(performance.now() - sent);
        }
      }),
    );
    return { ms: latencies, elapsedMs: performance.now() - started };
  };
  process.on('message', (m: { kind: string; concurrency?: number; ms?: number }) => {
    if (m.kind === 'cpu') process.send!({ kind: 'cpu', seconds: cpuSeconds() } satisfies Answer);
    else if (m.kind === 'load')
      void loop(m.concurrency!, m.ms!).then((r) => process.send!({ kind: 'load', ...r } satisfies Answer));
    else void bus.close().finally(() => process.exit(0));
  });
  process.send!({ kind: 'up' } satisfies Answer);
}

async function main(): Promise<void> {
  const concurrency = Number(process.argv[2] ?? 32);
  const seconds = Number(process.argv[3] ?? 15);
  const namespace = `hop${randomUUID().slice(0, 8)}`;
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:19092';
  // As the backbone does at start: the command topics exist before anyone subscribes.
  const topics = new KafkaMessageBus({
    brokers: brokers.split(','),
    clientId: 'command-hop',
    partitions: 3,
    namespace,
  });
  await topics.ensureTopics(ALL_COMMAND_TOPICS);
  await topics.close();
  const end = async (role: string) => {
    const forked = forkFloorProcess<Answer>(
      __filename,
      role,
      { brokers, namespace } satisfies Setup,
      'command hop',
    );
    await forked.next(); // up
    return forked;
  };
  const owner = await end('--command-hop-owner');
  const sender = await end('--command-hop-sender');
  // Asks one end and waits for its answer.
  const ask = async <A extends Answer>(end: FloorProcess<Answer>, request: object): Promise<A> => {
    const answer = end.next();
    end.child.send(request);
    return (await answer) as A;
  };
  await ask(sender, { kind: 'load', concurrency, ms: WARM_UP_MS });

  const brokerPid = listenerPid(Number(brokers.slice(brokers.lastIndexOf(':') + 1)));
  const brokerSeconds = () => {
    if (brokerPid === null) return NaN;
    const s = procStat(brokerPid);
    return (s.utime + s.stime) / CLOCK_TICKS_PER_SECOND;
  };
  const cpu = async () => ({
    sender: (await ask<Extract<Answer, { kind: 'cpu' }>>(sender, { kind: 'cpu' })).seconds,
    owner: (await ask<Extract<Answer, { kind: 'cpu' }>>(owner, { kind: 'cpu' })).seconds,
    broker: brokerSeconds(),
  });
  const before = await cpu();
  const load = await ask<Extract<Answer, { kind: 'load' }>>(sender, {
    kind: 'load',
    concurrency,
    ms: seconds * 1000,
  });
  const after = await cpu();
  const n = load.ms.length;
  const perCommand = (k: 'sender' | 'owner' | 'broker') => round(((after[k] - before[k]) * 1000) / n, 3);
  console.log(
    JSON.stringify({
      concurrency,
      perSecond: perSecond(n, load.elapsedMs),
      latency: summarize(load.ms),
      cpuMsPerCommand: {
        sender: perCommand('sender'),
        owner: perCommand('owner'),
        broker: perCommand('broker'),
      },
    }),
  );
  await Promise.all([sender.stop(), owner.stop()]);
}

const roles = { '--command-hop-owner': serveOwner, '--command-hop-sender': serveSender };
if (Object.keys(roles).some((role) => process.argv.includes(role))) serveFloorRole<Setup>(roles);
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
