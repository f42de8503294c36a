import { TEST_KAFKA_BROKERS } from '@spindle/testing';

// What every Spindle a test starts is given, whatever its mode. A write answers once its read
// model shows it, or 503 after READ_YOUR_WRITES_TIMEOUT_MS; a consistent read waits for the read
// models at most READ_CONSISTENCY_TIMEOUT_MS, then answers `stale`. On a CI machine Kafka,
// Postgres and Spindle share two cores, and a read model has lagged past the 5 s and 2 s defaults
// there; tests make no timing assertions (speed is the benchmark's to measure).
export const TEST_SPINDLE_ENV: Record<string, string> = {
  READ_YOUR_WRITES_TIMEOUT_MS: '30000',
  READ_CONSISTENCY_TIMEOUT_MS: '30000',
};

// Every end-to-end suite runs twice: standalone on the in-process bus, and on the real Kafka.
export const SPINDLE_MODES: [string, Record<string, string>][] = [
  [
    'standalone, in-process bus',
    { ...TEST_SPINDLE_ENV, MIST_PORT: '0', ILUM_PORT: '0', GENVID_PORT: '0', APOLLO_PORT: '0' },
  ],
  [
    'Kafka',
    {
      ...TEST_SPINDLE_ENV,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      KAFKA_TOPIC_PARTITIONS: '1',
      MIST_PORT: '0',
      ILUM_PORT: '0',
      GENVID_PORT: '0',
      APOLLO_PORT: '0',
    },
  ],
];
