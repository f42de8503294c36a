import { Counter, Histogram, collectDefaultMetrics, register } from 'prom-client';

// What the backbone counts, for GET /metrics (Prometheus text format) on every service's port.
// Metrics live in prom-client's process-wide registry: one set per process, whatever it runs.
// The event loop's delay is sampled every 100 ms, not prom-client's default 10 ms: that timer woke
// every idle process 100 times a second (a third of an idle Spindle's wake-ups, 2026-12-05).
collectDefaultMetrics({ prefix: 'spindle_', eventLoopMonitoringPrecision: 100 });

// Milliseconds matter here: a read model a client waits for is part of its request.
const LAG_BUCKETS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10,
];

export const consumerLag = new Histogram({
  name: 'spindle_consumer_lag_seconds',
  help: "From an event's occurredAt (when its owner decided it) to its consumer committing the effects",
  labelNames: ['consumer'] as const,
  buckets: LAG_BUCKETS,
});

export const consumedEvents = new Counter({
  name: 'spindle_consumer_events_total',
  help: 'Events a consumer applied (duplicates skipped by its checkpoint or inbox are not counted)',
  labelNames: ['consumer'] as const,
});

export const outboxPublished = new Counter({
  name: 'spindle_outbox_published_total',
  help: 'Outbox rows the relay published to the bus',
  labelNames: ['schema'] as const,
});

export const deadLettered = new Counter({
  name: 'spindle_dead_lettered_total',
  help: 'Messages a consumer gave up on and sent to the dead-letter topic',
  labelNames: ['consumer'] as const,
});

export const databaseStatements = new Counter({
  name: 'spindle_db_statements_total',
  help: "Statements a service's DataSource sent to Postgres (each a round trip), transaction control included",
  labelNames: ['connection'] as const,
});

export const kafkaRequests = new Counter({
  name: 'spindle_kafka_requests_total',
  help: "Requests the process's Kafka clients sent and the broker answered (each a round trip), by API: Produce, Fetch, OffsetCommit, Heartbeat, ...",
  labelNames: ['api'] as const,
});

export function metricsText(): Promise<string> {
  return register.metrics();
}

export const METRICS_CONTENT_TYPE = register.contentType;
