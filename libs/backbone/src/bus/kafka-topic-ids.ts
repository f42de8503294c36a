import { logLevel } from 'kafkajs';
import type { KafkaConfig } from 'kafkajs';
import Broker from 'kafkajs/src/broker';
import { createLogger } from 'kafkajs/src/loggers';
import ConnectionPool from 'kafkajs/src/network/connectionPool';
import socketFactory from 'kafkajs/src/network/socketFactory';
import Decoder from 'kafkajs/src/protocol/decoder';
import Encoder from 'kafkajs/src/protocol/encoder';

// What a topic-id look-up needs of a kafkajs client's configuration (kafkaClientConfig makes it,
// so TLS and SASL are those of every other client of the process).
export type TopicIdClientConfig = Pick<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl' | 'logCreator'>;

// Topic ids (KIP-516) name one incarnation of a topic: a topic deleted and created again, or a
// broker started on empty data, gets a new id under the same name, whatever the cluster id.
// kafkajs 2.2.4 speaks Metadata up to v6, which has no ids, so this asks one broker with Metadata
// v12 (Kafka 3.1 and later) over a short-lived connection of kafkajs's own (its connection, TLS,
// ApiVersions and SASL authenticators: internal modules, hence the pinned version and
// kafkajs-internals.d.ts); only the request and its answer are written here. Topics the broker
// does not know are left out of the answer.
export async function fetchTopicIds(
  config: TopicIdClientConfig,
  topics: readonly string[],
  timeoutMs = 5_000,
): Promise<Map<string, string>> {
  const brokers = typeof config.brokers === 'function' ? await config.brokers() : config.brokers;
  let lastError: unknown = new Error('no Kafka broker configured');
  for (const address of brokers) {
    try {
      return await askBroker(address, config, topics, timeoutMs);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

const METADATA = 3;
const VERSION = 12;

async function askBroker(
  address: string,
  config: TopicIdClientConfig,
  topics: readonly string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const at = address.lastIndexOf(':');
  const logger = createLogger({
    level: logLevel.WARN,
    logCreator: config.logCreator ?? (() => () => undefined),
  });
  const connectionPool = new ConnectionPool({
    host: address.slice(0, at),
    port: Number(address.slice(at + 1)),
    logger,
    socketFactory: socketFactory(),
    clientId: config.clientId ?? 'spindle-topic-ids',
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    ssl: config.ssl ?? null,
    sasl: config.sasl ?? null,
  });
  const broker = new Broker({ connectionPool, logger, authenticationTimeout: timeoutMs });
  try {
    // ApiVersions, then SASL when configured.
    await broker.connect();
    const supported = broker.versions?.[METADATA]?.maxVersion ?? -1;
    if (supported < VERSION)
      throw new Error(
        `${address} speaks Metadata up to v${supported}, topic ids need v${VERSION} (Kafka 3.1 or later)`,
      );
    return await connectionPool.send({ request: metadataRequest(topics), response: metadataResponse });
  } finally {
    await broker.disconnect().catch(() => undefined);
  }
}

// Metadata v12 is a flexible version: request header v2 is kafkajs's header v1 followed by tagged
// fields, so the body starts with the header's (empty) tags. Topics by name (a null id is 16 zero
// bytes), no auto-creation, no authorized operations.
function metadataRequest(topics: readonly string[]) {
  return {
    apiKey: METADATA,
    apiVersion: VERSION,
    apiName: 'Metadata',
    encode: async () => {
      const encoder = new Encoder().writeUVarInt(0).writeUVarInt(topics.length + 1);
      for (const topic of topics) encoder.writeBuffer(NULL_UUID).writeUVarIntString(topic).writeUVarInt(0);
      return encoder.writeBoolean(false).writeBoolean(false).writeUVarInt(0);
    },
  };
}

const NULL_UUID = Buffer.alloc(16);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

// kafkajs has read the correlation id; response header v1 goes on with tagged fields.
const metadataResponse = {
  decode: async (payload: Buffer): Promise<Map<string, string>> => {
    const d = new Decoder(payload);
    d.readTaggedFields();
    d.readInt32(); // throttle time
    d.readUVarIntArray((b) => {
      b.readInt32(); // node id
      b.readUVarIntString(); // host
      b.readInt32(); // port
      b.readUVarIntString(); // rack
      b.readTaggedFields();
    });
    d.readUVarIntString(); // cluster id
    d.readInt32(); // controller id
    const ids = new Map<string, string>();
    d.readUVarIntArray((t) => {
      const error = t.readInt16();
      const name = t.readUVarIntString();
      const id = uuid(t.readBytes(16));
      t.readBoolean(); // is internal
      t.readUVarIntArray((p) => {
        p.readInt16(); // error code
        p.readInt32(); // partition
        p.readInt32(); // leader
        p.readInt32(); // leader epoch
        for (let list = 0; list < 3; list++) p.readUVarIntArray((n) => n.readInt32());
        p.readTaggedFields();
      });
      t.readInt32(); // authorized operations
      t.readTaggedFields();
      if (error === 0 && name !== null && id !== ZERO_UUID) ids.set(name, id);
    });
    return ids;
  },
  parse: async (ids: Map<string, string>) => ids,
};

function uuid(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error('Metadata v12: truncated response');
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
