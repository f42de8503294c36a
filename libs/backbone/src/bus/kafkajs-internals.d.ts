// The parts of kafkajs's own modules (not its public API) that kafka-topic-ids.ts and the specs of
// our patches to kafkajs use, typed as far as they use them. They are internal: package.json pins
// kafkajs to one version, and the SASL and topic-incarnation int-specs (real brokers) and the
// patches' specs fail if they change shape.
declare module 'kafkajs/src/network/connectionPool' {
  import type { KafkaConfig } from 'kafkajs';
  import type Encoder from 'kafkajs/src/protocol/encoder';
  import type { ConnectionOptions } from 'node:tls';

  export default class ConnectionPool {
    constructor(options: {
      host: string;
      port: number;
      logger: unknown;
      socketFactory: unknown;
      clientId: string;
      connectionTimeout: number;
      requestTimeout: number;
      ssl: ConnectionOptions | boolean | null;
      sasl: KafkaConfig['sasl'] | null;
    });
    send<T>(protocol: { request: KafkajsRequest; response: KafkajsResponse<T> }): Promise<T>;
  }

  export interface KafkajsRequest {
    readonly apiKey: number;
    readonly apiVersion: number;
    readonly apiName: string;
    encode(): Promise<Encoder>;
  }

  export interface KafkajsResponse<T> {
    decode(payload: Buffer): Promise<T>;
    parse(decoded: T): Promise<T>;
  }
}

declare module 'kafkajs/src/broker' {
  import type ConnectionPool from 'kafkajs/src/network/connectionPool';

  export default class Broker {
    constructor(options: { connectionPool: ConnectionPool; logger: unknown; authenticationTimeout: number });
    readonly connectionPool: ConnectionPool;
    // After connect: the broker's ApiVersions answer, by api key.
    readonly versions: Record<number, { minVersion: number; maxVersion: number } | undefined> | null;
    connect(): Promise<void>;
    disconnect(): Promise<void>;
  }
}

declare module 'kafkajs/src/network/socketFactory' {
  export default function socketFactory(): unknown;
}

declare module 'kafkajs/src/loggers' {
  import type { logCreator, logLevel } from 'kafkajs';

  export function createLogger(options: { level: logLevel; logCreator: logCreator }): unknown;
}

declare module 'kafkajs/src/protocol/encoder' {
  import type Long from 'kafkajs/src/utils/long';

  export default class Encoder {
    static sizeOfVarInt(value: number): number;
    static sizeOfVarLong(value: number | Long): number;
    readonly buffer: Buffer;
    writeInt8(value: number): this;
    writeVarInt(value: number): this;
    writeVarLong(value: number | Long): this;
    writeBoolean(value: boolean): this;
    writeUVarInt(value: number): this;
    writeUVarIntString(value: string | null): this;
    writeBuffer(value: Buffer): this;
  }
}

declare module 'kafkajs/src/utils/long' {
  // A 64-bit integer, held as a BigInt.
  export default class Long {
    static fromValue(value: number | string | bigint | Long): Long;
    readonly value: bigint;
  }
}

declare module 'kafkajs/src/protocol/decoder' {
  import type Long from 'kafkajs/src/utils/long';

  export default class Decoder {
    constructor(buffer: Buffer);
    readInt8(): number;
    readInt16(): number;
    readInt32(): number;
    readVarInt(): number;
    readUVarInt(): number;
    readVarLong(): Long;
    readBoolean(): boolean;
    readUVarIntString(): string | null;
    readUVarIntArray<T>(reader: (decoder: Decoder) => T): T[] | null;
    readBytes(length: number): Buffer;
    readTaggedFields(): unknown;
  }
}

declare module 'kafkajs/src/network/requestQueue' {
  export default class RequestQueue {
    constructor(options: {
      maxInFlightRequests: number | null;
      requestTimeout: number;
      enforceRequestTimeout: boolean;
      clientId: string;
      broker: string;
      logger: unknown;
    });
    // Called by a connection once it is connected.
    scheduleRequestTimeoutCheck(): void;
    push(request: {
      entry: {
        correlationId: number;
        apiKey: number;
        apiName: string;
        apiVersion: number;
        resolve: (answer: unknown) => void;
        reject: (error: Error) => void;
      };
      expectResponse: boolean;
      sendRequest: () => void;
      requestTimeout?: number;
    }): void;
    fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
    destroy(): void;
  }
}

declare module 'kafkajs/src/protocol/requests/produce' {
  import type { KafkajsRequest } from 'kafkajs/src/network/connectionPool';

  export function protocol(options: { version: number }): (request: {
    acks: number;
    timeout: number;
    topicData: {
      topic: string;
      partitions: {
        partition: number;
        messages: { key: string; value: string; headers?: Record<string, string> }[];
      }[];
    }[];
  }) => { request: KafkajsRequest };
}

declare module 'kafkajs/src/protocol/recordBatch/v0' {
  import type Encoder from 'kafkajs/src/protocol/encoder';
  import type Long from 'kafkajs/src/utils/long';

  export function RecordBatch(batch: {
    firstOffset?: Long;
    firstTimestamp?: number | string;
    records: Encoder[];
  }): Promise<Encoder>;
}

declare module 'kafkajs/src/protocol/recordBatch/record/v0' {
  import type Encoder from 'kafkajs/src/protocol/encoder';

  export default function Record(record: {
    offsetDelta?: number;
    timestampDelta?: number;
    key: string;
    value: string;
    headers?: Record<string, string | string[]>;
  }): Encoder;
}

declare module 'kafkajs/src/protocol/recordBatch/v0/decoder' {
  import type Decoder from 'kafkajs/src/protocol/decoder';

  export default function decodeRecordBatch(decoder: Decoder): Promise<{
    records: {
      offset: string;
      timestamp: string;
      key: Buffer;
      value: Buffer;
      headers: Record<string, Buffer | Buffer[]>;
    }[];
  }>;
}

declare module 'kafkajs/src/producer/partitioners/default/murmur2' {
  export default function murmur2(key: string | Buffer): number;
}
