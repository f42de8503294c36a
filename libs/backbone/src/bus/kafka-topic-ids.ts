import { Socket } from 'node:net';

// Topic ids (KIP-516) name one incarnation of a topic: a topic deleted and created again, or a
// broker started on empty data, gets a new id under the same name, whatever the cluster id.
// kafkajs 2.2.4 speaks Metadata up to v6, which has no ids, so this asks one broker with Metadata
// v12 (Kafka 3.1 and later) over a short-lived connection of its own. Topics the broker does not
// know are left out of the answer.
export async function fetchTopicIds(
  brokers: readonly string[],
  topics: readonly string[],
  timeoutMs = 5_000,
): Promise<Map<string, string>> {
  let lastError: unknown = new Error('no Kafka broker configured');
  for (const broker of brokers) {
    try {
      return parseMetadataV12(await exchange(broker, metadataV12Request(topics), timeoutMs));
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

const METADATA = 3;
const VERSION = 12;
const CORRELATION_ID = 1;
const CLIENT_ID = 'spindle-topic-ids';

function metadataV12Request(topics: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  // Request header v2: api key, version, correlation id, client id (a plain string), no tags.
  const header = Buffer.alloc(10);
  header.writeInt16BE(METADATA, 0);
  header.writeInt16BE(VERSION, 2);
  header.writeInt32BE(CORRELATION_ID, 4);
  header.writeInt16BE(Buffer.byteLength(CLIENT_ID), 8);
  parts.push(header, Buffer.from(CLIENT_ID), uvarint(0));
  // Topics by name (a null id is 16 zero bytes), no auto-creation, no authorized operations.
  parts.push(uvarint(topics.length + 1));
  for (const topic of topics) {
    const name = Buffer.from(topic);
    parts.push(Buffer.alloc(16), uvarint(name.length + 1), name, uvarint(0));
  }
  parts.push(Buffer.from([0, 0]), uvarint(0));
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

function parseMetadataV12(frame: Buffer): Map<string, string> {
  const r = new Reader(frame);
  if (r.int32() !== CORRELATION_ID) throw new Error('Metadata v12: unexpected correlation id');
  r.skipTags(); // response header v1
  r.int32(); // throttle time
  r.array(() => {
    r.int32();
    r.string();
    r.int32();
    r.string();
    r.skipTags();
  });
  r.string(); // cluster id
  r.int32(); // controller id
  const ids = new Map<string, string>();
  r.array(() => {
    const error = r.int16();
    const name = r.string();
    const id = r.uuid();
    r.skip(1); // is internal
    r.array(() => {
      r.skip(2 + 4 + 4 + 4);
      for (let list = 0; list < 3; list++) r.array(() => r.int32());
      r.skipTags();
    });
    r.int32(); // authorized operations
    r.skipTags();
    if (error === 0 && name !== null && id !== ZERO_UUID) ids.set(name, id);
  });
  return ids;
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

function exchange(broker: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at);
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`Metadata v12 from ${broker} timed out`)));
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`${broker} closed the connection (Kafka before 3.1?)`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      socket.removeAllListeners('close');
      socket.destroy();
      resolve(received.subarray(4, 4 + received.readInt32BE(0)));
    });
    socket.connect(port, host, () => socket.write(request));
  });
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

// Reads the flexible (compact) encoding of Kafka's protocol.
class Reader {
  private at = 0;

  constructor(private readonly buffer: Buffer) {}

  skip(bytes: number): void {
    if (this.at + bytes > this.buffer.length) throw new Error('Metadata v12: truncated response');
    this.at += bytes;
  }

  int16(): number {
    const v = this.buffer.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    const v = this.buffer.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer.readUInt8(this.at++);
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  }

  string(): string | null {
    const length = this.uvarint() - 1;
    if (length < 0) return null;
    const text = this.buffer.toString('utf8', this.at, this.at + length);
    this.skip(length);
    return text;
  }

  uuid(): string {
    const hex = this.buffer.toString('hex', this.at, this.at + 16);
    this.skip(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  array(item: () => void): void {
    const length = this.uvarint() - 1;
    for (let i = 0; i < length; i++) item();
  }

  skipTags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}
