import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka } from 'kafkajs';
import { SASL_MECHANISMS } from '@spindle/platform';
import type { KafkaSasl, KafkaSecurity, SaslMechanism } from '@spindle/platform';
import { eventually, uniqueName } from '@spindle/testing';
import type { DeliveredMessage } from './message-bus';
import { KafkaMessageBus, kafkaClientConfig } from './kafka-message-bus';
import { fetchTopicIds } from './kafka-topic-ids';

const run = promisify(execFile);
const KAFKA_TOOLS = join(__dirname, '..', '..', '..', '..', 'tools', 'kafka');
const USER = 'spindle-sasl';
const PASSWORD = 'sasl-secret-0123';

// Every Kafka client of Spindle against a broker whose listener asks for SASL (tools/kafka with
// KAFKA_SASL_PORT, a broker of this suite's own): the bus publishes and consumes (which also asks
// the topic's id over Spindle's own connection), with each mechanism; a wrong password is refused
// by both kinds of connection.
describe('Kafka clients with SASL', () => {
  const state = mkdtempSync(join(tmpdir(), 'spindle-kafka-sasl-'));
  let saslBroker: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const [port, controller, sasl] = await freePorts(3);
    env = {
      ...process.env,
      KAFKA_STATE_DIR: state,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_SASL_PORT: String(sasl),
      KAFKA_SASL_USERS: `${USER}:${PASSWORD}`,
    };
    await run('bash', [join(KAFKA_TOOLS, 'kafka-up.sh')], { env, timeout: 300_000 });
    saslBroker = `127.0.0.1:${sasl}`;
  }, 320_000);

  afterAll(async () => {
    await run('bash', [join(KAFKA_TOOLS, 'kafka-down.sh')], { env, timeout: 60_000 }).catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  }, 70_000);

  const security = (mechanism: SaslMechanism, password = PASSWORD): KafkaSecurity => ({
    tls: undefined,
    sasl: { mechanism, username: USER, password } satisfies KafkaSasl,
  });
  // The configuration the bus gives its topic-id look-ups.
  const topicIdConfig = (s: KafkaSecurity) =>
    kafkaClientConfig(
      { brokers: [saslBroker], clientId: 'spindle-sasl-test', partitions: 1, security: s },
      'topic-ids',
    );

  it.each(SASL_MECHANISMS)(
    'publishes and consumes with %s',
    async (mechanism) => {
      const bus = new KafkaMessageBus({
        brokers: [saslBroker],
        clientId: 'spindle-sasl-test',
        partitions: 1,
        security: security(mechanism),
      });
      const topic = uniqueName(`sasl-${mechanism}`);
      const received: DeliveredMessage[] = [];
      const topicIds: (string | null)[] = [];
      try {
        await bus.publish([{ topic, messages: [{ key: 'k', value: mechanism }] }]);
        const subscription = await bus.subscribe(
          { groupId: uniqueName('sasl-group'), topics: [topic], fromBeginning: true },
          async (batch) => {
            topicIds.push(batch.topicId);
            received.push(...batch.messages);
          },
        );
        try {
          await eventually(async () => (received.length > 0 ? true : undefined), 60_000, 'the message');
        } finally {
          await subscription.stop();
        }
        expect(received.map((m) => m.value)).toEqual([mechanism]);
        // The topic's id came over the topic-id connection, with SASL (kafka-topic-ids.ts).
        expect(topicIds[0]).toMatch(/^[0-9a-f]{8}-/);
        const ids = await fetchTopicIds(topicIdConfig(security(mechanism)), [topic]);
        expect(ids.get(topic)).toBe(topicIds[0]);
      } finally {
        await bus.close();
      }
    },
    120_000,
  );

  it.each(SASL_MECHANISMS)(
    'refuses a wrong password with %s, on both kinds of connection',
    async (mechanism) => {
      const wrong = security(mechanism, 'not-the-password');
      await expect(fetchTopicIds(topicIdConfig(wrong), ['any'])).rejects.toThrow(/SASL|SCRAM/);
      const admin = new Kafka({
        ...kafkaClientConfig(
          { brokers: [saslBroker], clientId: 'spindle-sasl-test', partitions: 1, security: wrong },
          'admin',
        ),
        retry: { retries: 0 },
      }).admin();
      await expect(admin.connect()).rejects.toThrow(/SASL|authenticat/i);
      await admin.disconnect();
    },
    60_000,
  );

  it('refuses a client without SASL on the SASL listener', async () => {
    await expect(
      fetchTopicIds(topicIdConfig({ tls: undefined, sasl: undefined }), ['any'], 3_000),
    ).rejects.toThrow();
  }, 30_000);
});

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const server = createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
