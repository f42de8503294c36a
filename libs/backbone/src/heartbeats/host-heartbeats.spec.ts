import type { DataSource } from 'typeorm';
import { DataTopics } from '@spindle/contracts';
import type { MessageBus, SubscribeOptions } from '../bus/message-bus';
import { HostsTableListener } from './host-heartbeats';

class Listener extends HostsTableListener {
  constructor(bus: MessageBus) {
    super({} as DataSource, bus, 'installation', {
      groupId: 'test.hosts',
      table: 'hosts',
      logger: 'test',
      silenceLimitMs: 5_000,
    });
  }
}

// A heartbeat listener's group keeps no offsets: a restarted listener starts at the end, and a
// commit every second (the agents beat every second) was a broker round trip each while idle.
describe('HostsTableListener', () => {
  it('reads heartbeats from the end of the topic and commits no offsets', async () => {
    const asked: SubscribeOptions[] = [];
    const bus: MessageBus = {
      kind: 'kafka',
      durableOffsets: true,
      publish: () => Promise.resolve([]),
      subscribe: (options) => {
        asked.push(options);
        return Promise.resolve({ stop: () => Promise.resolve() });
      },
      health: () => Promise.resolve({ up: true, detail: '' }),
      close: () => Promise.resolve(),
    };
    const listener = new Listener(bus);
    await listener.onModuleInit();
    await listener.beforeApplicationShutdown();
    expect(asked).toEqual([
      {
        groupId: 'test.hosts',
        topics: [DataTopics.heartbeats],
        fromBeginning: false,
        commitOffsets: 'never',
      },
    ]);
  });
});
