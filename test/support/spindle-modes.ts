import { TEST_KAFKA_BROKERS } from '@spindle/testing';

// Every end-to-end suite runs twice: standalone on the in-process bus, and on the real Kafka.
export const SPINDLE_MODES: [string, Record<string, string>][] = [
  ['standalone, in-process bus', { MIST_PORT: '0', ILUM_PORT: '0', GENVID_PORT: '0', APOLLO_PORT: '0' }],
  [
    'Kafka',
    {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      KAFKA_TOPIC_PARTITIONS: '1',
      MIST_PORT: '0',
      ILUM_PORT: '0',
      GENVID_PORT: '0',
      APOLLO_PORT: '0',
    },
  ],
];
