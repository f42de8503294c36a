import { Controller, Module } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { ALL_COMMAND_TOPICS, CommandPatterns } from '@spindle/contracts';
import { loadConfig } from '@spindle/platform';
import { TEST_KAFKA_BROKERS, uniqueName } from '@spindle/testing';
import { KafkaMessageBus } from '../bus/kafka-message-bus';
import { CommandBus } from './command-bus';
import { commandServerOptions, createCommandClient } from './command-transport';
import { InProcessCommandServer } from './in-process-transport';

@Controller()
class EchoCommands {
  @MessagePattern(CommandPatterns.submitJob)
  submit(@Payload() payload: unknown) {
    return { ok: true, command: 'submit', payload };
  }

  @MessagePattern(CommandPatterns.cancelJob)
  cancel(@Payload() payload: unknown) {
    return { ok: true, command: 'cancel', payload };
  }
}

@Module({ controllers: [EchoCommands] })
class EchoModule {}

// Commands over Kafka, between a sender's CommandBus and an owner's command server, on a real
// broker: every command of a service on its one command topic, the pattern in a header.
describe('the Kafka command transport', () => {
  const namespace = uniqueName('cmdtest');
  const config = loadConfig({ KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), KAFKA_NAMESPACE: namespace });
  const patterns = [CommandPatterns.submitJob, CommandPatterns.cancelJob];
  let server: INestMicroservice;
  let bus: CommandBus;
  let topicsBus: KafkaMessageBus;
  let admin: Admin;

  beforeAll(async () => {
    // As the backbone does at start: the command topics exist before anyone subscribes.
    topicsBus = new KafkaMessageBus({
      brokers: TEST_KAFKA_BROKERS,
      clientId: 'cmdtest',
      partitions: 3,
      namespace,
    });
    await topicsBus.ensureTopics(ALL_COMMAND_TOPICS);
    const kafkaServer = commandServerOptions(config, 'scheduler').find(
      (s) => !(s.strategy instanceof InProcessCommandServer),
    )!;
    server = await NestFactory.createMicroservice(EchoModule, { ...kafkaServer, logger: false });
    await server.listen();
    bus = new CommandBus(createCommandClient(config, 'gateway', patterns), patterns, 30_000);
    await bus.connect();
    admin = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 90_000);

  afterAll(async () => {
    await bus?.close();
    await server?.close();
    await topicsBus?.close();
    await admin?.disconnect();
  });

  it('hands each command to its own handler, the payload as it was sent, even one shaped like a Kafka message', async () => {
    // Nest's serializer took an object with a `key` or `value` field for a Kafka message of its own.
    const payload = { key: 'k-1', value: { n: 1 }, headers: 'h', jobId: 'j-1' };
    await expect(bus.execute(CommandPatterns.submitJob, payload)).resolves.toEqual({
      ok: true,
      command: 'submit',
      payload,
    });
    await expect(bus.execute(CommandPatterns.cancelJob, { jobId: 'j-2' })).resolves.toEqual({
      ok: true,
      command: 'cancel',
      payload: { jobId: 'j-2' },
    });
  }, 60_000);

  it('answers many concurrent commands, each to its own sender', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        bus.execute(i % 2 === 0 ? CommandPatterns.submitJob : CommandPatterns.cancelJob, { i }),
      ),
    );
    expect(answers).toEqual(
      Array.from({ length: 50 }, (_, i) => ({
        ok: true,
        command: i % 2 === 0 ? 'submit' : 'cancel',
        payload: { i },
      })),
    );
  }, 60_000);

  it("uses one command topic and one reply topic for all of a service's commands", async () => {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`)).sort();
    expect(ours).toEqual([
      `${namespace}.spindle.scheduler.commands.v1`,
      `${namespace}.spindle.scheduler.commands.v1.reply`,
    ]);
  });

  it("leaves no offsets for a sender's reply group, which is its process's alone", async () => {
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(`${namespace}.spindle-gateway-`));
    expect(groups).toHaveLength(1);
    const offsets = await admin.fetchOffsets({ groupId: groups[0]! });
    expect(offsets.flatMap((t) => t.partitions.map((p) => p.offset)).filter((o) => o !== '-1')).toEqual([]);
    // The command server's group does commit: a command sent while its owner restarts is not lost.
    const served = await admin.fetchOffsets({ groupId: `${namespace}.spindle-scheduler-commands` });
    expect(served.flatMap((t) => t.partitions.map((p) => Number(p.offset))).some((o) => o > 0)).toBe(true);
  });

  it('answers a command its owner has no handler for with an error, and the next command still goes through', async () => {
    await expect(bus.execute('spindle.scheduler.cmd.no-such-command.v1', {})).rejects.toMatch(
      /no matching message handler/,
    );
    await expect(bus.execute(CommandPatterns.cancelJob, { jobId: 'j-3' })).resolves.toMatchObject({
      ok: true,
    });
  }, 60_000);

  it('refuses to send a pattern of a service that receives no commands, before anything is sent', async () => {
    await expect(bus.execute('spindle.projector.cmd.rebuild.v1', {})).rejects.toThrow(
      /spindle\.projector\.cmd\.rebuild\.v1 is not a command of a service that receives commands/,
    );
  });
});
