import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka } from 'kafkajs';
import { SASL_MECHANISMS } from '@spindle/platform';
import type { KafkaSasl, KafkaSecurity, SaslMechanism } from '@spindle/platform';
import { eventually, freePorts, uniqueName } from '@spindle/testing';
import type { DeliveredMessage } from './message-bus';
import { KafkaMessageBus, kafkaClientConfig } from './kafka-message-bus';
import type { KafkaBusOptions } from './kafka-message-bus';
import { fetchTopicIds } from './kafka-topic-ids';

const run = promisify(execFile);
const KAFKA_TOOLS = join(__dirname, '..', '..', '..', '..', 'tools', 'kafka');
const USER = 'spindle-sasl';
const PASSWORD = 'sasl-secret-0123';
const KEYSTORE_PASSWORD = 'tls-keystore-0123';

// Every Kafka client of Spindle against a broker of this suite's own (tools/kafka) with two extra
// listeners: one that asks for SASL (KAFKA_SASL_PORT), one that speaks mutual TLS (KAFKA_SSL_PORT,
// KAFKA_SSL_CLIENT_CA) with a certificate signed by a CA made here with openssl, and asks each
// client for one signed by the same CA. The bus publishes and consumes over each (which also asks
// the topic's id over the topic-id connection, kafka-topic-ids.ts), with each SASL mechanism, and
// trusting the CA while showing its own certificate; a wrong password, a client that trusts only
// the system's CAs, and one that shows no certificate are refused by both kinds of connection.
describe('Kafka clients with SASL and TLS', () => {
  const state = mkdtempSync(join(tmpdir(), 'spindle-kafka-security-'));
  let saslBroker: string;
  let tlsBroker: string;
  let ca: string;
  let client: { cert: string; key: string };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await makeCertificates(state);
    ca = readFileSync(join(state, 'ca.pem'), 'utf8');
    client = {
      cert: readFileSync(join(state, 'client.pem'), 'utf8'),
      key: readFileSync(join(state, 'client.key'), 'utf8'),
    };
    const [port, controller, sasl, tls] = await freePorts(4);
    env = {
      ...process.env,
      KAFKA_STATE_DIR: join(state, 'kafka'),
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_SASL_PORT: String(sasl),
      KAFKA_SASL_USERS: `${USER}:${PASSWORD}`,
      KAFKA_SSL_PORT: String(tls),
      KAFKA_SSL_KEYSTORE: join(state, 'broker.p12'),
      KAFKA_SSL_KEYSTORE_PASSWORD: KEYSTORE_PASSWORD,
      KAFKA_SSL_CLIENT_CA: join(state, 'ca.pem'),
    };
    await run('bash', [join(KAFKA_TOOLS, 'kafka-up.sh')], { env, timeout: 300_000 });
    saslBroker = `127.0.0.1:${sasl}`;
    tlsBroker = `127.0.0.1:${tls}`;
  }, 320_000);

  afterAll(async () => {
    await run('bash', [join(KAFKA_TOOLS, 'kafka-down.sh')], { env, timeout: 60_000 }).catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  }, 70_000);

  const options = (broker: string, security: KafkaSecurity): KafkaBusOptions => ({
    brokers: [broker],
    clientId: 'spindle-security-test',
    partitions: 1,
    security,
  });
  const sasl = (mechanism: SaslMechanism, password = PASSWORD): KafkaSecurity => ({
    tls: undefined,
    sasl: { mechanism, username: USER, password } satisfies KafkaSasl,
  });
  const mutualTls = (): KafkaSecurity => ({ tls: { ca, ...client }, sasl: undefined });
  const noCertificate = (): KafkaSecurity => ({
    tls: { ca, cert: undefined, key: undefined },
    sasl: undefined,
  });
  const systemCasOnly: KafkaSecurity = {
    tls: { ca: undefined, cert: undefined, key: undefined },
    sasl: undefined,
  };

  // Publishes one message, consumes it, and checks the topic id the batch carried is the one the
  // topic-id connection asks with the same configuration.
  async function roundTrip(bus: KafkaBusOptions, value: string): Promise<void> {
    const kafka = new KafkaMessageBus(bus);
    const topic = uniqueName('security');
    const received: DeliveredMessage[] = [];
    const topicIds: (string | null)[] = [];
    try {
      await kafka.publish([{ topic, messages: [{ key: 'k', value }] }]);
      const subscription = await kafka.subscribe(
        { groupId: uniqueName('security-group'), topics: [topic], fromBeginning: true },
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
      expect(received.map((m) => m.value)).toEqual([value]);
      expect(topicIds[0]).toMatch(/^[0-9a-f]{8}-/);
      const ids = await fetchTopicIds(kafkaClientConfig(bus, 'topic-ids'), [topic]);
      expect(ids.get(topic)).toBe(topicIds[0]);
    } finally {
      await kafka.close();
    }
  }

  // Both kinds of connection (the topic-id one, a kafkajs admin) are refused.
  async function refused(bus: KafkaBusOptions, topicIdError: RegExp, adminError: RegExp): Promise<void> {
    await expect(fetchTopicIds(kafkaClientConfig(bus, 'topic-ids'), ['any'], 3_000)).rejects.toThrow(
      topicIdError,
    );
    const admin = new Kafka({ ...kafkaClientConfig(bus, 'admin'), retry: { retries: 0 } }).admin();
    await expect(admin.connect()).rejects.toThrow(adminError);
    await admin.disconnect();
  }

  it.each(SASL_MECHANISMS)(
    'publishes and consumes with SASL %s',
    (mechanism) => roundTrip(options(saslBroker, sasl(mechanism)), mechanism),
    120_000,
  );

  it.each(SASL_MECHANISMS)(
    'refuses a wrong password with %s, on both kinds of connection',
    (mechanism) =>
      refused(options(saslBroker, sasl(mechanism, 'not-the-password')), /SASL|SCRAM/, /SASL|authenticat/i),
    60_000,
  );

  it('refuses a client without SASL on the SASL listener', async () => {
    await expect(
      fetchTopicIds(
        kafkaClientConfig(options(saslBroker, { tls: undefined, sasl: undefined }), 'topic-ids'),
        ['any'],
        3_000,
      ),
    ).rejects.toThrow();
  }, 30_000);

  it(
    'publishes and consumes over mutual TLS, trusting the broker’s CA and showing its own certificate',
    () => roundTrip(options(tlsBroker, mutualTls()), 'over tls'),
    120_000,
  );

  it(
    'is refused when it shows no certificate, on both kinds of connection',
    () => refused(options(tlsBroker, noCertificate()), /./, /./),
    60_000,
  );

  it(
    'refuses a broker whose certificate no trusted CA signed, on both kinds of connection',
    () => refused(options(tlsBroker, systemCasOnly), /certificate/i, /certificate/i),
    60_000,
  );
});

// A CA; the broker's key and certificate for 127.0.0.1 signed by it, as PKCS12 for Kafka; and a
// client's key and certificate signed by it, as PEM for kafkajs.
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=spindle-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'broker.key',
    '-out',
    'broker.csr',
  );
  writeFileSync(join(dir, 'broker.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'broker.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'broker.ext',
    '-out',
    'broker.pem',
  );
  await openssl(
    'pkcs12',
    '-export',
    '-in',
    'broker.pem',
    '-inkey',
    'broker.key',
    '-name',
    'broker',
    '-out',
    'broker.p12',
    '-passout',
    `pass:${KEYSTORE_PASSWORD}`,
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=spindle-client',
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    'client.pem',
  );
}
