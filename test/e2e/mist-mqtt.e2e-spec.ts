import { connect, connectAsync } from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MistStartRequests } from '@spindle/gateway';
import { eventually, readKafkaTopic, uniqueName } from '@spindle/testing';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(90_000);

// The Mosquitto every machine of the project runs; each run uses topics and a client id of its own.
const BROKER = 'mqtt://127.0.0.1:1883';

type MistEvent = { event: string; id: string } & Record<string, unknown>;

// A Mist client on MQTT: publishes start requests, collects everything on the publish topic.
async function mistClient(url: string, publishTopic: string) {
  const client = await connectAsync(url, { clientId: uniqueName('mist-client'), reconnectPeriod: 500 });
  const received: MistEvent[] = [];
  client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()) as MistEvent));
  await client.subscribeAsync(publishTopic, { qos: 1 });
  return {
    received,
    request: (topic: string, body: object | string, retain = false) =>
      client.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1, retain }),
    end: () => client.endAsync(true),
  };
}

// Ends the session a client id keeps on the broker, so test runs leave nothing behind.
async function dropSession(url: string, clientId: string): Promise<void> {
  const client = await connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 });
  await client.endAsync();
}

describe.each(SPINDLE_MODES)('Mist async interface over MQTT, %s', (_mode, env) => {
  let client: Awaited<ReturnType<typeof mistClient>>;
  const onKafka = env['KAFKA_BROKERS'] !== undefined;
  const base = uniqueName('spindle-test');
  const requests = `${base}/requests`;
  const events = `${base}/events`;
  const kafkaEvents = uniqueName('mist-events'); // the same events on Kafka, to compare
  const clientId = uniqueName('spindle-mist');

  const suite = spindleSuite({
    name: 'mqtt',
    env: {
      MIST_MQTT_URL: BROKER,
      MIST_MQTT_SUBSCRIBE_TOPIC: requests,
      MIST_MQTT_PUBLISH_TOPIC: events,
      MIST_MQTT_CLIENT_ID: clientId,
      ...(onKafka ? { MIST_ASYNC_PUBLISH_TOPIC: kafkaEvents } : {}),
      ...env,
    },
  });

  const api = (method: string, path: string, body?: unknown) =>
    http(suite.mistUrl, method, `/v2/api${path}`, body);

  // Mist's jobs of this suite with these external ids, every one (a job started twice shows twice).
  async function jobsWith(externalIds: string[]): Promise<Record<string, any>[]> {
    const all = (await api('GET', '/jobs?limit=500')).body as Record<string, any>[];
    return all.filter((j) => externalIds.includes(j['externalId']));
  }

  async function finishedWith(externalId: string): Promise<Record<string, any>> {
    return eventually(
      async () => (await jobsWith([externalId])).find((j) => j['status'] === 'finished'),
      40_000,
      `job ${externalId} finished`,
    );
  }

  beforeAll(async () => {
    client = await mistClient(BROKER, events);
    const form = new FormData();
    form.append('file', new Blob([PROGRAMS['sum.py']]), 'sum.py');
    expect((await fetch(`${suite.mistUrl}/v2/api/artifacts`, { method: 'POST', body: form })).status).toBe(
      200,
    );
    const created = await api('POST', '/functions', {
      name: 'pysum',
      path: 'sum.py',
      className: 'sum',
      defaultContext: 'default',
    });
    expect(created.status).toBe(200);
  });

  afterAll(async () => {
    await client?.end();
    await dropSession(BROKER, clientId).catch(() => undefined);
  });

  it('starts a job from a request and publishes its events and logs in Mist’s shapes', async () => {
    await client.request(requests, {
      functionId: 'pysum',
      parameters: { a: 4, b: 5 },
      externalId: 'from-mqtt',
      runSettings: { contextId: 'mqtt-ctx' },
    });
    const job = await finishedWith('from-mqtt');
    expect(job).toMatchObject({
      function: 'pysum',
      context: 'mqtt-ctx',
      params: { arguments: { a: 4, b: 5 } },
      jobResult: 9,
      source: 'Async Mqtt',
    });
    const id = job['jobId'] as string;
    const ofJob = () => client.received.filter((e) => e.id === id);
    await eventually(
      async () => (['finished', 'logs'].every((n) => ofJob().some((e) => e.event === n)) ? true : undefined),
      20_000,
      'the job’s finished and logs events on the publish topic',
    );
    const seen = ofJob().map((e) => e.event);
    expect(seen).toEqual(
      expect.arrayContaining(['initialized', 'queued', 'worker-assigned', 'started', 'finished']),
    );
    // Status events in the order they happened (at least once: a repeat keeps its place).
    const order = ['initialized', 'queued', 'worker-assigned', 'job-file-downloading', 'started', 'finished'];
    const statuses = seen.filter((e) => e !== 'logs').filter((e, i, all) => all.indexOf(e) === i);
    expect(statuses).toEqual([...statuses].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    const byName = (name: string) => ofJob().find((e) => e.event === name)!;
    expect(byName('initialized')).toEqual({
      event: 'initialized',
      id,
      params: { filePath: 'sum.py', className: 'sum', arguments: { a: 4, b: 5 }, action: 'execute' },
      externalId: 'from-mqtt',
      function: 'pysum',
      context: 'mqtt-ctx',
    });
    expect(byName('finished')).toEqual({ event: 'finished', id, time: expect.any(Number), result: 9 });
    const file = await api('GET', `/jobs/${id}/logs`);
    expect(byName('logs')).toEqual({
      event: 'logs',
      id,
      events: [{ from: 'stdout', message: 'adding 4 5', timeStamp: expect.any(Number), level: 2 }],
      fileOffset: Buffer.byteLength(file.text),
    });
    if (onKafka) {
      // One mapping for both transports: the same events, byte for byte, on the Kafka topic.
      const distinct = (values: string[]) => [...new Set(values)].sort();
      const onMqtt = distinct(ofJob().map((e) => JSON.stringify(e)));
      const records = await readKafkaTopic(kafkaEvents, (rs) =>
        onMqtt.every((e) => rs.some((r) => r.value === e)),
      );
      expect(
        distinct(records.map((r) => r.value).filter((v) => (JSON.parse(v) as MistEvent).id === id)),
      ).toEqual(onMqtt);
    }
  });

  it('drops malformed and unknown requests, and goes on', async () => {
    await client.request(requests, 'not json at all');
    await client.request(requests, { functionId: '' });
    await client.request(requests, {
      functionId: 'pysum',
      parameters: 'not an object',
      externalId: 'bad-params',
    });
    await client.request(requests, { functionId: 'no-such-function', externalId: 'unknown-fn' });
    await client.request(requests, {
      functionId: 'pysum',
      parameters: { a: 1, b: 2 },
      externalId: 'after-bad',
    });
    const job = await finishedWith('after-bad');
    expect(job).toMatchObject({ jobResult: 3, source: 'Async Mqtt' });
    expect(await jobsWith(['bad-params', 'unknown-fn'])).toEqual([]);
    expect((await http(suite.url, 'GET', '/health')).status).toBe(200);
  });

  it('starts the requests sent while it was stopped, each exactly once, also those the broker delivers again', async () => {
    // A retained request starts its job when sent, not again when the broker hands its copy to a
    // new subscription.
    await client.request(
      requests,
      { functionId: 'pysum', parameters: { a: 0, b: 0 }, externalId: 'retained' },
      true,
    );
    await finishedWith('retained');
    await suite.stop();
    const ids = ['down-1', 'down-2', 'down-3'];
    for (const [i, externalId] of ids.entries()) {
      await client.request(requests, { functionId: 'pysum', parameters: { a: i, b: 10 }, externalId });
    }
    // Someone holding Spindle's session takes the requests and vanishes without acknowledging
    // them, as a Spindle that dies mid-request would: the broker delivers them again (DUP set).
    const taken: IPublishPacket[] = [];
    const thief: MqttClient = connect(BROKER, { clientId, clean: false, reconnectPeriod: 0 });
    thief.handleMessage = (packet) => taken.push(packet); // never acknowledged (set before any comes)
    await eventually(
      async () => (taken.length > 0 ? true : undefined),
      10_000,
      'the session’s queued requests',
    );
    expect(taken.every((p) => !p.dup)).toBe(true);
    thief.stream.destroy();
    await suite.start();
    for (const [i, externalId] of ids.entries()) {
      expect(await finishedWith(externalId)).toMatchObject({ jobResult: i + 10, source: 'Async Mqtt' });
    }
    expect((await jobsWith(ids)).map((j) => j['externalId']).sort()).toEqual(ids);
    expect(await jobsWith(['retained'])).toHaveLength(1);
    await client.request(requests, '', true); // clears the retained one (and is dropped as invalid)
  });

  it('answers a request delivered again with the job it started, and a new one sharing its key with a job of its own', async () => {
    // What the transport hands over for a request the broker delivers twice (DUP set the second
    // time), and for a later request that reuses the packet id with the same bytes (DUP clear).
    const requests = suite.spindle.app.get(MistStartRequests);
    const value = JSON.stringify({
      functionId: 'pysum',
      parameters: { a: 7, b: 7 },
      externalId: 'redelivered',
    });
    const key = `mist-mqtt:${uniqueName('key')}`;
    await requests.start(value, {
      source: 'mqtt',
      where: 'test#1',
      idempotencyKey: key,
      firstDelivery: true,
    });
    await requests.start(value, {
      source: 'mqtt',
      where: 'test#1',
      idempotencyKey: key,
      firstDelivery: false,
    });
    await finishedWith('redelivered');
    expect(await jobsWith(['redelivered'])).toHaveLength(1);
    await requests.start(value, {
      source: 'mqtt',
      where: 'test#1',
      idempotencyKey: key,
      firstDelivery: true,
    });
    await eventually(
      async () => ((await jobsWith(['redelivered'])).length === 2 ? true : undefined),
      10_000,
      'a second job for the new request',
    );
  });
});

// A broker of the test's own, to stop and start: Spindle starts without it, waits for it, and
// picks up again after it went away (and lost the session, as a broker without persistence does).
describe('Mist async interface over MQTT, when the broker comes and goes', () => {
  const mosquitto = '/usr/sbin/mosquitto';
  let broker: ChildProcess | undefined;
  let port: number;
  const base = uniqueName('spindle-test');
  const mqttUrl = (): string => `mqtt://127.0.0.1:${port}`;
  // Started by the test, once it knows the broker's port.
  const suite = spindleSuite({
    name: 'mqtt',
    env: () => ({
      MIST_PORT: '0',
      ILUM_PORT: '0',
      GENVID_PORT: '0',
      APOLLO_PORT: '0',
      MIST_MQTT_URL: mqttUrl(),
      MIST_MQTT_SUBSCRIBE_TOPIC: `${base}/requests`,
      MIST_MQTT_PUBLISH_TOPIC: `${base}/events`,
    }),
    start: false,
  });

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port: p } = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    return p;
  }

  async function startBroker(): Promise<void> {
    const conf = join(suite.dataDir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    broker = spawn(mosquitto, ['-c', conf], { stdio: 'ignore' });
    await eventually(
      async () => {
        const c = await connectAsync(`mqtt://127.0.0.1:${port}`, {
          reconnectPeriod: 0,
          connectTimeout: 1_000,
        }).catch(() => undefined);
        await c?.endAsync();
        return c ? true : undefined;
      },
      10_000,
      'the test broker',
    );
  }

  async function stopBroker(): Promise<void> {
    const b = broker;
    broker = undefined;
    if (!b || b.exitCode !== null) return;
    await new Promise((r) => {
      b.once('exit', r);
      b.kill('SIGTERM');
    });
  }

  beforeAll(async () => {
    port = await freePort();
  });

  afterAll(async () => {
    await stopBroker();
  });

  it('starts without the broker, connects when it comes, and reconnects after it went away', async () => {
    const url = mqttUrl();
    await suite.start();
    const api = (method: string, path: string, body?: unknown) =>
      http(suite.mistUrl, method, `/v2/api${path}`, body);
    expect((await api('GET', '/functions')).status).toBe(200); // serving, broker or not
    const form = new FormData();
    form.append('file', new Blob([PROGRAMS['sum.py']]), 'sum.py');
    await fetch(`${suite.mistUrl}/v2/api/artifacts`, { method: 'POST', body: form });
    await api('POST', '/functions', {
      name: 'pysum',
      path: 'sum.py',
      className: 'sum',
      defaultContext: 'default',
    });

    const finished = (externalId: string) =>
      eventually(
        async () =>
          ((await api('GET', '/jobs?limit=500')).body as Record<string, any>[]).find(
            (j) => j['externalId'] === externalId && j['status'] === 'finished',
          ),
        40_000,
        `job ${externalId} finished`,
      );
    // Until Spindle has subscribed again, a request goes nowhere (this broker keeps no session):
    // send numbered ones until one has started.
    const requestUntilStarted = async (name: string) => {
      const client = await connectAsync(url, { clientId: uniqueName('mist-client') });
      const prefix = `${name}-`;
      const deadline = Date.now() + 30_000;
      let started: Record<string, any> | undefined;
      for (let n = 0; !started && Date.now() < deadline; n++) {
        const externalId = `${prefix}${n}`;
        await client.publishAsync(
          `${base}/requests`,
          JSON.stringify({ functionId: 'pysum', parameters: { a: 1, b: 1 }, externalId }),
          { qos: 1 },
        );
        await new Promise((r) => setTimeout(r, 1_000));
        started = ((await api('GET', '/jobs?limit=500')).body as Record<string, any>[]).find((j) =>
          String(j['externalId']).startsWith(prefix),
        );
      }
      await client.endAsync();
      if (!started) throw new Error(`no request of ${name} started`);
      return finished(started['externalId'] as string);
    };

    await startBroker();
    expect(await requestUntilStarted('broker-came')).toMatchObject({ jobResult: 2, source: 'Async Mqtt' });
    await stopBroker();
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await api('GET', '/functions')).status).toBe(200); // still serving
    await startBroker();
    expect(await requestUntilStarted('broker-back')).toMatchObject({ jobResult: 2, source: 'Async Mqtt' });
  });
});
