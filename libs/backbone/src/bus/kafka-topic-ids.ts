import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Socket, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { KafkaSasl, KafkaSecurity } from '@spindle/platform';

// Topic ids (KIP-516) name one incarnation of a topic: a topic deleted and created again, or a
// broker started on empty data, gets a new id under the same name, whatever the cluster id.
// kafkajs 2.2.4 speaks Metadata up to v6, which has no ids, so this asks one broker with Metadata
// v12 (Kafka 3.1 and later) over a short-lived connection of its own. Topics the broker does not
// know are left out of the answer.
export async function fetchTopicIds(
  brokers: readonly string[],
  topics: readonly string[],
  security: KafkaSecurity = { tls: undefined, sasl: undefined },
  timeoutMs = 5_000,
): Promise<Map<string, string>> {
  let lastError: unknown = new Error('no Kafka broker configured');
  for (const broker of brokers) {
    try {
      return parseMetadataV12(await exchange(broker, metadataV12Request(topics), security, timeoutMs));
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

// One short-lived connection: TLS and SASL as the other clients of this process (KafkaSecurity),
// then the one request.
async function exchange(
  broker: string,
  request: Buffer,
  security: KafkaSecurity,
  timeoutMs: number,
): Promise<Buffer> {
  const connection = await BrokerConnection.open(broker, security, timeoutMs);
  try {
    if (security.sasl) await authenticate(connection, security.sasl);
    return await connection.exchange(request);
  } finally {
    connection.close();
  }
}

// A socket that answers one whole response frame (without its size) per request, in order.
class BrokerConnection {
  private received = Buffer.alloc(0);
  private waiting: { resolve(frame: Buffer): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    broker: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.deliver();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error(`${broker} closed the connection (Kafka before 3.1?)`)));
  }

  static open(broker: string, security: KafkaSecurity, timeoutMs: number): Promise<BrokerConnection> {
    const at = broker.lastIndexOf(':');
    const host = broker.slice(0, at);
    const port = Number(broker.slice(at + 1));
    return new Promise((resolve, reject) => {
      const tlsOptions = security.tls;
      const socket = tlsOptions
        ? tlsConnect({
            host,
            port,
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ca: tlsOptions.ca,
            cert: tlsOptions.cert,
            key: tlsOptions.key,
          })
        : new Socket().connect(port, host);
      const connection = new BrokerConnection(socket, broker);
      socket.setTimeout(timeoutMs, () => connection.fail(new Error(`Metadata v12 from ${broker} timed out`)));
      socket.once('error', reject);
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => resolve(connection));
    });
  }

  exchange(request: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
      this.deliver();
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private deliver(): void {
    const r = this.received;
    if (!this.waiting || r.length < 4 || r.length < 4 + r.readInt32BE(0)) return;
    const frame = r.subarray(4, 4 + r.readInt32BE(0));
    this.received = r.subarray(4 + frame.length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve(frame);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.socket.destroy();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(e);
  }
}

const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

// SaslHandshake v1 and SaslAuthenticate v0 (request header v1, plain encodings): the mechanism,
// then its messages; PLAIN in one round, SCRAM in two (RFC 5802, no channel binding).
async function authenticate(connection: BrokerConnection, sasl: KafkaSasl): Promise<void> {
  const mechanism = sasl.mechanism.toUpperCase();
  const handshake = new PlainReader(
    await connection.exchange(plainRequest(SASL_HANDSHAKE, 1, [plainString(mechanism)])),
  );
  handshake.int32(); // correlation id
  const handshakeError = handshake.int16();
  if (handshakeError !== 0)
    throw new Error(`the broker does not offer SASL ${mechanism} (error code ${handshakeError})`);
  const round = async (message: string): Promise<string> => {
    const answer = new PlainReader(
      await connection.exchange(plainRequest(SASL_AUTHENTICATE, 0, [plainBytes(Buffer.from(message))])),
    );
    answer.int32(); // correlation id
    const code = answer.int16();
    const text = answer.string();
    if (code !== 0)
      throw new Error(`SASL ${mechanism} authentication failed: ${text ?? `error code ${code}`}`);
    return answer.bytes().toString('utf8');
  };
  if (sasl.mechanism === 'plain') {
    await round(`\0${sasl.username}\0${sasl.password}`);
    return;
  }
  const scram = new ScramClient(sasl);
  const serverFinal = await round(scram.finalMessage(await round(scram.firstMessage())));
  scram.verify(serverFinal);
}

class ScramClient {
  private readonly digest: 'sha256' | 'sha512';
  private readonly nonce = randomBytes(24).toString('base64');
  private readonly firstBare: string;
  private serverSignature: Buffer | undefined;

  constructor(private readonly sasl: KafkaSasl) {
    this.digest = sasl.mechanism === 'scram-sha-512' ? 'sha512' : 'sha256';
    const name = sasl.username.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.firstBare = `n=${name},r=${this.nonce}`;
  }

  firstMessage(): string {
    return `n,,${this.firstBare}`;
  }

  finalMessage(serverFirst: string): string {
    const fields = new Map(serverFirst.split(',').map((f) => [f.slice(0, 1), f.slice(2)] as const));
    const nonce = fields.get('r') ?? '';
    const salt = Buffer.from(fields.get('s') ?? '', 'base64');
    const iterations = Number(fields.get('i'));
    if (!nonce.startsWith(this.nonce) || salt.length === 0 || !(iterations > 0))
      throw new Error('SCRAM: the broker sent an invalid first message');
    const hmac = (key: Buffer, text: string) => createHmac(this.digest, key).update(text).digest();
    const salted = pbkdf2Sync(
      this.sasl.password,
      salt,
      iterations,
      this.digest === 'sha512' ? 64 : 32,
      this.digest,
    );
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash(this.digest).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
    this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  // The broker proves it knows the password too.
  verify(serverFinal: string): void {
    const verifier = /(?:^|,)v=([^,]+)/.exec(serverFinal)?.[1];
    const expected = this.serverSignature;
    if (
      verifier === undefined ||
      expected === undefined ||
      !timingSafeEqual(Buffer.from(verifier, 'base64'), expected)
    )
      throw new Error(
        `SCRAM: the broker's signature does not match (${/e=([^,]+)/.exec(serverFinal)?.[1] ?? 'no proof'})`,
      );
  }
}

let correlation = 100;

// Request header v1: api key, version, correlation id, client id; then the body's parts.
function plainRequest(apiKey: number, version: number, body: Buffer[]): Buffer {
  const header = Buffer.alloc(8);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlation++ & 0x7fffffff, 4);
  const payload = Buffer.concat([header, plainString(CLIENT_ID), ...body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}

function plainString(text: string): Buffer {
  const length = Buffer.alloc(2);
  length.writeInt16BE(Buffer.byteLength(text), 0);
  return Buffer.concat([length, Buffer.from(text)]);
}

function plainBytes(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

// Reads the plain (non-flexible) encoding.
class PlainReader {
  private at = 0;

  constructor(private readonly buffer: Buffer) {}

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

  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const text = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return text;
  }

  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    const bytes = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return bytes;
  }
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
