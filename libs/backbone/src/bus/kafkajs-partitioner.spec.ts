import { Partitioners } from 'kafkajs';
import murmur2 from 'kafkajs/src/producer/partitioners/default/murmur2';

// kafkajs 2.2.4 hashed every key it produced with its Long (a BigInt-backed object per multiply
// and xor); `patches/kafkajs+2.2.4.patch` does the same arithmetic in 32-bit integers. A stream's
// messages must keep going to the partition they always went to (per-stream order, and agreement
// with Java clients), so the hash must be Java's: these are the values of Kafka 3.9.2's own
// `org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(UTF_8))` (printed by a Java program
// against kafka-clients-3.9.2.jar; the old kafkajs code gave the same for each, and for 100,000
// random keys the old and the new code agreed).
const JAVA_MURMUR2: [string, number][] = [
  ['', 275646681],
  ['a', -1563381124],
  ['ab', 316155434],
  ['abc', 479470107],
  ['abcd', -1323649548],
  ['abcde', 461995741],
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['job-0191f0e2-8c5a-7000-8000-00000000002a', -703486721],
  ['context-etl', -2082343554],
  ['function-sum', 912917496],
  ['host-worker-1', -237206485],
  ['zürich 東京 🚀', -1782594925],
  ['ÿþý', -827240790],
  ['x'.repeat(1000), -1068453602],
  ['spindle.scheduler.jobs.v1', -1211777676],
  ['key with "quotes" and \\', 561039886],
];

describe('kafkajs default partitioner (patched)', () => {
  it.each(JAVA_MURMUR2)('hashes key %# as Kafka does', (key, hash) => {
    expect(murmur2(key)).toBe(hash);
    expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('puts a keyed message on the partition a Java producer would', () => {
    const partition = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((id) => ({
      partitionId: id,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }));
    for (const [key, hash] of JAVA_MURMUR2) {
      expect(partition({ topic: 't', partitionMetadata, message: { key, value: null } })).toBe(
        (hash & 0x7fffffff) % 3,
      );
    }
  });
});
