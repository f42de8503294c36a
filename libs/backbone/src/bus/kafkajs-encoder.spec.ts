import Decoder from 'kafkajs/src/protocol/decoder';
import { RecordBatch } from 'kafkajs/src/protocol/recordBatch/v0';
import Record from 'kafkajs/src/protocol/recordBatch/record/v0';
import decodeRecordBatch from 'kafkajs/src/protocol/recordBatch/v0/decoder';
import { protocol } from 'kafkajs/src/protocol/requests/produce';

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
