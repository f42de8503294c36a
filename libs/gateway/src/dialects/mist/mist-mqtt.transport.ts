import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus, Subscription } from '@spindle/backbone';
import { SPINDLE_CONFIG, redactUrl } from '@spindle/platform';
import type { MistMqttConfig, SpindleConfig } from '@spindle/platform';
import { MistEventFeed } from './mist-event-feed';
import type { MistOutgoing } from './mist-event-feed';
import { MistStartRequests } from './mist-start-requests';

const RECONNECT_MS = 2_000;
const RETRY_MAX_MS = 30_000;

// Mist's async interface over MQTT (`mist.mqtt.*`): the same requests and events as over Kafka,
// carried by an MQTT broker. A persistent session (clean=false, a stable client id, QoS 1) keeps
// the requests sent while Spindle is away; each is acknowledged only once its job is recorded, and
// submitted with a key of its packet id and bytes, so one the broker delivers again starts no
// second job.
@Injectable()
export class MistMqttTransport implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('mist-mqtt');
  private readonly stop = new AbortController();
  private readonly subscriptions: Subscription[] = [];
  private client: MqttClient | undefined;
  private requests: Promise<void> = Promise.resolve(); // one at a time, in arrival order
  private readonly problems = new Set<string>(); // said since the last connect

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    private readonly starts: MistStartRequests,
    private readonly feed: MistEventFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    const mqtt = this.config.mist.mqtt;
    if (!mqtt) return;
    // Not awaited: a broker that is away at start is retried by the client, in the background.
    const client = connect(mqtt.url, {
      clientId: mqtt.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 10_000,
      resubscribe: false, // subscribed on every connect below
    });
    this.client = client;
    client.handleMessage = (packet, done) => this.take(packet, mqtt, () => done());
    client.on('message', (_topic, _payload, packet) => {
      if (packet.qos === 0) this.take(packet, mqtt, () => undefined); // QoS 1 arrives at handleMessage
    });
    client.on('connect', (connack) => {
      this.problems.clear();
      this.logger.log(
        `connected to ${redactUrl(mqtt.url)} as ${mqtt.clientId} (${connack.sessionPresent ? 'session resumed' : 'new session'})`,
      );
      // Every time: the broker may have lost the session. Retained messages are not requests.
      if (mqtt.subscribeTopic) {
        client.subscribe(mqtt.subscribeTopic, { qos: 1 }, (e) => {
          if (e) this.problem(`could not subscribe to ${mqtt.subscribeTopic}: ${e.message}`);
        });
      }
    });
    client.on('offline', () => this.problem(`broker ${redactUrl(mqtt.url)} unreachable; reconnecting`));
    client.on('error', (e) => this.problem(e.message));
    if (mqtt.publishTopic) {
      const topic = mqtt.publishTopic;
      this.subscriptions.push(
        ...(await this.feed.follow({
          name: 'mist-mqtt',
          publish: (messages, heartbeat) => this.publish(client, topic, messages, heartbeat),
        })),
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.subscriptions.map((s) => s.stop()));
    await this.requests;
    // Unacknowledged requests stay with the broker's session, for the next start.
    await this.client?.endAsync(true);
  }

  private take(packet: IPublishPacket, mqtt: MistMqttConfig, acknowledge: () => void): void {
    this.requests = this.requests.then(async () => {
      if (await this.startJob(packet, mqtt)) acknowledge();
    });
  }

  // True once the request is handled (started, or dropped as invalid); false when Spindle stops first.
  private async startJob(packet: IPublishPacket, mqtt: MistMqttConfig): Promise<boolean> {
    const where = `${packet.topic}#${packet.messageId ?? 'qos0'}`;
    if (packet.retain) {
      this.logger.warn(`ignored a retained message at ${where}: a retained message is not a request`);
      return true;
    }
    const value = Buffer.from(packet.payload).toString('utf8');
    for (let attempt = 1; !this.stop.signal.aborted; attempt++) {
      try {
        await this.starts.start(value, {
          source: 'mqtt',
          where,
          // QoS 0 is delivered at most once: nothing to recognise.
          ...(packet.messageId === undefined
            ? {}
            : { idempotencyKey: requestKey(mqtt.clientId, packet, value), firstDelivery: !packet.dup }),
        });
        return true;
      } catch (e) {
        const waitMs = Math.min(RETRY_MAX_MS, 500 * 2 ** attempt);
        this.logger.warn(
          `could not start the request at ${where} (attempt ${attempt}), again in ${waitMs} ms: ${e instanceof Error ? e.message : String(e)}`,
        );
        await sleep(waitMs, undefined, { signal: this.stop.signal }).catch(() => undefined);
      }
    }
    return false;
  }

  // Resolves once the broker has acknowledged every message.
  private async publish(
    client: MqttClient,
    topic: string,
    messages: readonly MistOutgoing[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    if (!this.bus.durableOffsets) {
      // The in-process bus holds every publisher until each group is done: waiting for a broker
      // that is away would stop Spindle. So events that find it away are dropped.
      if (!client.connected) {
        this.problem(`broker away: ${messages.length} event(s) not published`);
        return;
      }
      for (const m of messages) client.publish(topic, m.value, { qos: 1 }, () => undefined);
      return;
    }
    // While the broker is away the client keeps the messages and sends them once it is back; the
    // group waits, heartbeating, and the events stay in Kafka meanwhile.
    const acked = Promise.all(messages.map((m) => client.publishAsync(topic, m.value, { qos: 1 })));
    acked.catch(() => undefined); // raced below; a rejection is thrown there
    for (;;) {
      const done = await Promise.race([acked.then(() => true), sleep(1_000, false, { ref: false })]);
      if (done) return;
      if (this.stop.signal.aborted) throw new Error('stopping: these events are published at the next start');
      await heartbeat();
    }
  }

  // Said once per outage, not at every reconnect attempt.
  private problem(message: string): void {
    if (this.problems.has(message)) return;
    this.problems.add(message);
    this.logger.warn(message);
  }
}

// The same request delivered again (same client, topic, packet id and bytes) gets the same key.
export function requestKey(clientId: string, packet: IPublishPacket, value: string): string {
  const digest = createHash('sha256')
    .update(`${clientId}\n${packet.topic}\n${packet.messageId ?? ''}\n${value}`)
    .digest('hex');
  return `mist-mqtt:${digest}`;
}
