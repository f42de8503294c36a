import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { TEST_KAFKA_BROKERS, eventually, uniqueName } from '@spindle/testing';
import { KafkaMessageBus } from './kafka-message-bus';

// A subscriber that commits no offsets leaves nothing for the broker to keep once it stops; one
// that commits leaves its group with its offsets (what a group per process run would leak).
describe('Kafka subscriptions and their consumer groups', () => {
  let bus: KafkaMessageBus;
  let admin: Admin;
  const topic = uniqueName('spindle.test.groups');

  beforeAll(async () => {
    bus = new KafkaMessageBus({ brokers: TEST_KAFKA_BROKERS, clientId: 'spindle-test', partitions: 1 });
    admin = new Kafka({ brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await bus.publish([{ topic, messages: [{ key: 'k', value: '{"n":1}' }] }]);
  });

  afterAll(async () => {
    await bus.close();
    await admin.disconnect();
  });

  async function readAllAndStop(groupId: string, commitOffsets: boolean): Promise<string[]> {
    const seen: string[] = [];
    const subscription = await bus.subscribe(
      { groupId, topics: [topic], fromBeginning: true, commitOffsets },
      (batch) => {
        seen.push(...batch.messages.map((m) => m.value));
        return Promise.resolve();
      },
    );
    await eventually(() => Promise.resolve(seen.length > 0 ? true : undefined), 30_000, 'the message');
    expect(seen).toEqual(['{"n":1}']);
    await subscription.stop();
    return seen;
  }

  const groupIds = async () => (await admin.listGroups()).groups.map((g) => g.groupId);

  const committed = async (groupId: string) =>
    (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset;

  // The broker drops an empty group without offsets at its next offsets cleanup
  // (offsets.retention.check.interval.ms, 10 min by default); one with offsets stays for
  // offsets.retention.minutes (7 days). What a test can see at once: empty, and no offsets.
  it('commits no offsets when asked: once its member left, the group is empty with nothing to keep', async () => {
    const groupId = uniqueName('spindle.test.no-offsets');
    await readAllAndStop(groupId, false);
    const [group] = (await admin.describeGroups([groupId])).groups;
    expect(group!.members).toEqual([]);
    expect(await committed(groupId)).toBe('-1');
    // A later run of the same group reads from the start again: nothing was kept.
    expect(await readAllAndStop(groupId, false)).toEqual(['{"n":1}']);
  });

  it('keeps a committing group, with its offsets, after its member left', async () => {
    const groupId = uniqueName('spindle.test.offsets');
    await readAllAndStop(groupId, true);
    expect(await groupIds()).toContain(groupId);
    expect(await committed(groupId)).toBe('1');
    await admin.deleteGroups([groupId]);
  });
});
