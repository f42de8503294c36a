import Decoder from 'kafkajs/src/protocol/decoder';
import Encoder from 'kafkajs/src/protocol/encoder';
import { RecordBatch } from 'kafkajs/src/protocol/recordBatch/v0';
import Record from 'kafkajs/src/protocol/recordBatch/record/v0';
import decodeRecordBatch from 'kafkajs/src/protocol/recordBatch/v0/decoder';
import { protocol } from 'kafkajs/src/protocol/requests/produce';
import Long from 'kafkajs/src/utils/long';

// kafkajs 2.2.4's Encoder made every buffer with Buffer.alloc (a new zero-filled ArrayBuffer,
// outside Node's buffer pool), one per record, header, batch and request. `patches/kafkajs+2.2.4.patch`
// takes them from Buffer.allocUnsafe, which is safe only if the encoder writes every byte it hands
// on. These check that it does: whatever the memory held before, the same request encodes to the
// same bytes, and they decode to what was sent.
describe('kafkajs encoder (patched)', () => {
  afterEach(() => jest.restoreAllMocks());

  const messages = Array.from({ length: 25 }, (_, i) => ({
    key: `job-${i}`,
    // Sizes that make an encoder grow past its first 512 bytes, and sizes that do not.
    value: JSON.stringify({ type: 'JobSubmitted', n: i, pad: 'x'.repeat(i * 40), text: 'zürich 東京' }),
    headers: { 'spindle-event-type': 'JobSubmitted', 'spindle-correlation-id': `c-${i}` },
  }));

  // The produce request (the newest version kafkajs speaks), its memory from allocUnsafe filled
  // with `fill` first: reused memory holds anything.
  async function producedWith(fill: number): Promise<Buffer> {
    const unsafe = jest
      .spyOn(Buffer, 'allocUnsafe')
      .mockImplementation((size: number) => Buffer.alloc(size, fill));
    const { request } = protocol({ version: 7 })({
      acks: -1,
      timeout: 30_000,
      topicData: [{ topic: 'spindle.jobs', partitions: [{ partition: 0, messages }] }],
    });
    const bytes = Buffer.from((await request.encode()).buffer);
    expect(unsafe).toHaveBeenCalled(); // the patch is in place
    unsafe.mockRestore();
    return bytes;
  }

  it('writes every byte of a produce request it hands on', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-07T21:00:00Z')); // its timestamps
    const zeroed = await producedWith(0x00);
    const dirty = await producedWith(0xa5);
    expect(dirty.equals(zeroed)).toBe(true);
  });

  it('encodes a record batch that decodes to the messages sent', async () => {
    jest.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => Buffer.alloc(size, 0xff));
    const batch = await RecordBatch({
      records: messages.map((message, offsetDelta) => Record({ ...message, offsetDelta })),
    });
    const decoded = await decodeRecordBatch(new Decoder(batch.buffer));
    expect(
      decoded.records.map((r) => ({
        key: r.key.toString(),
        value: r.value.toString(),
        headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()])),
      })),
    ).toEqual(messages);
  });
});

// The same patch writes varints straight into the encoder's buffer (kafkajs built a JS array and a
// Buffer of it for each), and a varlong given as a number in doubles (kafkajs stepped through
// BigInt-backed Longs). Their bytes must be the protocol's: LEB128 of the zigzag value.
describe('kafkajs varints (patched)', () => {
  // The reference, in BigInt: zigzag, then seven bits a byte, low first, the high bit on all but
  // the last.
  function leb128(value: bigint, bits: 32 | 64): Buffer {
    let zigZag = BigInt.asUintN(bits, (value << 1n) ^ (value >> BigInt(bits - 1)));
    const bytes: number[] = [];
    while (zigZag >= 128n) {
      bytes.push(Number(zigZag & 127n) | 128);
      zigZag >>= 7n;
    }
    bytes.push(Number(zigZag));
    return Buffer.from(bytes);
  }

  // Every length a varint can have, each side of every byte boundary, and random values.
  const around = (limit: number) =>
    Array.from({ length: Math.ceil(Math.log2(limit) / 7) + 1 }, (_, k) => 2 ** (7 * k)).flatMap((edge) => [
      edge - 1,
      edge,
      -edge,
      -edge - 1,
    ]);
  const int32s = [0, -0, ...around(2 ** 31), 2 ** 31 - 1, -(2 ** 31), 1234567, -7654321].filter(
    (v) => v < 2 ** 31 && v >= -(2 ** 31),
  );
  const random = (bound: number) => Math.floor(Math.random() * bound) * (Math.random() < 0.5 ? -1 : 1);

  it('writes a varint as the protocol has it, and reads back what it wrote', () => {
    for (const value of [...int32s, ...Array.from({ length: 2000 }, () => random(2 ** 31))]) {
      const written = new Encoder().writeVarInt(value).buffer;
      expect(written.toString('hex')).toBe(leb128(BigInt(value), 32).toString('hex'));
      expect(written.length).toBe(Encoder.sizeOfVarInt(value));
      expect(new Decoder(written).readVarInt()).toBe(value === 0 ? 0 : value);
    }
  });

  it('writes a varlong given as a number as it writes the same value given as a Long', () => {
    jest.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => Buffer.alloc(size, 0xa5));
    const values = [
      ...int32s,
      ...around(2 ** 52),
      2 ** 52 - 1,
      -(2 ** 52 - 1),
      Date.now(),
      -Date.now(),
      ...Array.from({ length: 2000 }, () => random(2 ** 52)),
    ].filter((v) => Math.abs(v) < 2 ** 52);
    for (const value of values) {
      const written = new Encoder().writeVarLong(value).buffer;
      const expected = leb128(BigInt(value), 64);
      expect(written.toString('hex')).toBe(expected.toString('hex'));
      expect(new Encoder().writeVarLong(Long.fromValue(value)).buffer.toString('hex')).toBe(
        expected.toString('hex'),
      );
      expect(Encoder.sizeOfVarLong(value)).toBe(expected.length);
      expect(new Decoder(written).readVarLong().value).toBe(BigInt(value));
    }
    // Beyond 2^52, and a Long, as before: the Long path.
    for (const value of [2 ** 53 - 1, -(2 ** 53 - 1), Number.MAX_SAFE_INTEGER]) {
      expect(new Encoder().writeVarLong(value).buffer.toString('hex')).toBe(
        leb128(BigInt(value), 64).toString('hex'),
      );
    }
    const long = Long.fromValue('9223372036854775807');
    expect(new Encoder().writeVarLong(long).buffer.toString('hex')).toBe(
      leb128(9223372036854775807n, 64).toString('hex'),
    );
    jest.restoreAllMocks();
  });
});

// The same patch decodes a record's timestamp delta in doubles (kafkajs: BigInt-backed Longs per
// byte), adds it and the offset delta to the batch's first timestamp and offset in doubles while
// they are well inside 2^53 (kafkajs: a string parsed into a Long and printed back per record),
// and collects headers into one object. The answers must be kafkajs's: decimal strings, exact.
describe('kafkajs record decoding (patched)', () => {
  async function decoded(batch: { firstOffset: string; firstTimestamp: string | number; deltas: number[] }) {
    const encoded = await RecordBatch({
      firstOffset: Long.fromValue(batch.firstOffset),
      firstTimestamp: batch.firstTimestamp,
      records: batch.deltas.map((timestampDelta, offsetDelta) =>
        Record({
          key: `k${offsetDelta}`,
          value: 'v',
          offsetDelta,
          timestampDelta,
          headers: { one: 'a', many: ['x', 'y', 'z'] },
        }),
      ),
    });
    return (await decodeRecordBatch(new Decoder(encoded.buffer))).records;
  }

  // Deltas of every varlong length up to 7 bytes (the doubles) and beyond (kafkajs's Long path).
  const deltas = [
    0,
    1,
    -1,
    63,
    -64,
    64,
    8191,
    -8192,
    2 ** 20,
    -(2 ** 27),
    2 ** 34,
    2 ** 41,
    -(2 ** 47),
    2 ** 48,
    2 ** 51,
  ];

  it.each([
    { firstOffset: '0', firstTimestamp: Date.parse('2026-12-08T01:00:00Z') },
    { firstOffset: '123456789012345', firstTimestamp: '999999999999999' }, // 15 digits: doubles
    { firstOffset: '9223372036854775000', firstTimestamp: '4611686018427387904' }, // near 2^63: BigInt
  ])('gives offsets and timestamps from $firstOffset and $firstTimestamp exactly', async (batch) => {
    const records = await decoded({ ...batch, deltas });
    expect(records.map((r) => r.offset)).toEqual(
      deltas.map((_, i) => (BigInt(batch.firstOffset) + BigInt(i)).toString()),
    );
    expect(records.map((r) => r.timestamp)).toEqual(
      deltas.map((d) => (BigInt(batch.firstTimestamp) + BigInt(d)).toString()),
    );
    for (const record of records) {
      expect(record.headers['one']?.toString()).toBe('a');
      expect((record.headers['many'] as Buffer[]).map(String)).toEqual(['x', 'y', 'z']);
    }
  });
});
